"""Deterministic generators of realistic residents and rosters, for seed_demo, the benchmark and tests."""

import csv
import datetime
import io
import random
import struct
import zlib
from dataclasses import dataclass

from openpyxl import Workbook
from stdnum.cn import ric

SURNAMES = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰志华建国玉梅金凤春红德福永海荣生亮辉文国庆小燕云秀珍彩霞淑兰嘉欣梓涵浩然子轩宇航俊杰雨婷思琪佳怡"
BANKS = ["中国农业银行高州支行", "广东高州农村商业银行", "中国邮政储蓄银行高州市支行", "中国工商银行高州支行"]
BANK_PREFIX = {BANKS[0]: "622848", BANKS[1]: "621458", BANKS[2]: "621799", BANKS[3]: "622202"}

# Share of each category among identities, roughly as county reports show (低保 and 脱贫 dominate).
CATEGORY_WEIGHTS = {
    "DB": 40,
    "JD": 22,
    "TK": 8,
    "DSR": 8,
    "BY": 6,
    "FP": 6,
    "ZB": 3,
    "QT": 3,
    "GE": 2,
    "SW": 2,
}
SOURCE_OF = {
    "DB": "民政",
    "TK": "民政",
    "GE": "民政",
    "SW": "民政",
    "BY": "民政",
    "DSR": "民政",
    "QT": "民政",
    "ZB": "医保",
    "JD": "乡村振兴",
    "FP": "乡村振兴",
}

ROSTER_HEADERS = [
    "身份证号",
    "姓名",
    "救助类别",
    "认定日期",
    "退出日期",
    "乡镇（街道）",
    "村（社区）",
    "联系电话",
    "开户银行",
    "银行账号",
    "数据来源",
]


def make_id_number(rng: random.Random, region: str, birth: datetime.date, female: bool | None = None) -> str:
    seq = rng.randrange(0, 100)
    sex_digit = rng.choice([0, 2, 4, 6, 8]) if female else rng.choice([1, 3, 5, 7, 9])
    if female is None:
        sex_digit = rng.randrange(10)
    body = f"{region}{birth:%Y%m%d}{seq:02d}{sex_digit}"
    return body + ric.calc_check_digit(body + "0")


def make_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))


@dataclass
class DemoPerson:
    id_number: str
    name: str
    township: str
    village: str
    phone: str
    bank_name: str
    bank_account: str
    birth: datetime.date


def make_people(
    rng: random.Random, count: int, townships: dict[str, list[str]], *, region: str = "440981"
) -> list[DemoPerson]:
    """`count` distinct residents spread over the townships (weights favour the larger ones)."""
    names = list(townships)
    weights = [len(townships[t]) for t in names]
    seen, people = set(), []
    while len(people) < count:
        birth = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 85))
        number = make_id_number(rng, region, birth)
        if number in seen:
            continue
        seen.add(number)
        township = rng.choices(names, weights)[0]
        bank = rng.choice(BANKS)
        has_bank = rng.random() < 0.85
        people.append(
            DemoPerson(
                id_number=number,
                name=make_name(rng),
                township=township,
                village=rng.choice(townships[township]),
                phone=("1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9)))
                if rng.random() < 0.8
                else "",
                bank_name=bank if has_bank else "",
                bank_account=(BANK_PREFIX[bank] + "".join(rng.choice("0123456789") for _ in range(13)))
                if has_bank
                else "",
                birth=birth,
            )
        )
    return people


def roster_row(p: DemoPerson, category: str, valid_from: datetime.date, valid_to: datetime.date | None = None):
    return [
        p.id_number,
        p.name,
        category,
        valid_from.isoformat(),
        valid_to.isoformat() if valid_to else "",
        p.township,
        p.village,
        p.phone,
        p.bank_name,
        p.bank_account,
        SOURCE_OF[category],
    ]


def to_csv(rows: list[list], *, encoding: str = "utf-8-sig", headers=ROSTER_HEADERS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def to_xlsx(rows: list[list], *, headers=ROSTER_HEADERS) -> bytes:
    """An .xlsx with IDs and accounts as text cells, as a careful clerk would save it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名册"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for column in ("A", "J"):
        for cell in sheet[column]:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def blank_scan_png(width: int = 240, height: int = 160, shade: int = 235) -> bytes:
    """A small valid PNG (a plain grey page) standing in for a scanned invoice in the demo data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
