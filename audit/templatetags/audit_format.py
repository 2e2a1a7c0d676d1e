"""The audit log as people read it: field names in Chinese (the object's own field labels, then the log's common
keys), yes / no, amounts with separators, lists joined, nothing as —."""

import re
from decimal import Decimal, InvalidOperation

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

register = template.Library()

# Keys the services write that are not a field of the object they describe.
KEYS = {
    "status": "状态",
    "rows": "行数",
    "errors": "错误数",
    "file": "文件",
    "file_hash": "文件摘要",
    "masked": "已脱敏",
    "calls": "回访笔数",
    "township": "乡镇",
    "townships": "乡镇数",
    "year": "年度",
    "month": "月份",
    "total": "合计",
    "amount": "金额",
    "count": "笔数",
    "reason": "原因",
    "seconds": "用时（秒）",
    "path": "写入方式",
    "closed_leads": "关闭的线索",
    "reopened_leads": "重新打开的线索",
    "proposed_amount": "拟救助金额",
    "approved_amount": "批准金额",
    "people": "人数",
    "scope": "范围",
    "method": "抽取方式",
    "seed": "随机种子",
    "population": "总体",
    "kind": "类型",
    "date": "日期",
    "by_township": "按乡镇分表",
    "added": "新增",
    "changed": "变更",
    "ended": "终止",
    "unchanged": "无变化",
    "burden": "个人负担",
    "chunks": "分片数",
    "withdrawn": "撤回",
    "flagged": "待核对",
    "cases": "案件",
    "created": "新建",
    "updated": "更新",
    "threshold": "起付标准",
}
# Numbers that are names, not quantities: shown without separators.
PLAIN_NUMBERS = {"year", "seed", "half", "revision", "id", "pk", "number", "code"}
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def _field(key: str, object_type: str):
    try:
        model = apps.get_model(object_type) if object_type and "." in object_type else None
        return model._meta.get_field(key) if model else None
    except (LookupError, FieldDoesNotExist, ValueError):
        return None


def _label(key: str, field) -> str:
    if key in KEYS:
        return KEYS[key]
    return str(getattr(field, "verbose_name", key)) if field is not None else key


def _shown(key: str, value, field) -> str:
    """A value under its key: a field's choice by its label, a number that names something without separators."""
    choices = dict(getattr(field, "flatchoices", None) or ()) if field is not None else {}
    if isinstance(value, str) and value in choices:
        return str(choices[value])
    if isinstance(value, int) and not isinstance(value, bool) and (key in PLAIN_NUMBERS or key.endswith("_id")):
        return str(value)
    return _value(value)


def _value(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list):
        return "、".join(_value(v) for v in value[:10]) + ("…" if len(value) > 10 else "")
    if isinstance(value, dict):
        return "；".join(f"{k}：{_value(v)}" for k, v in list(value.items())[:6])
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, str) and _DECIMAL.match(value):
        try:
            return f"{Decimal(value).quantize(Decimal('0.01')):,}"
        except InvalidOperation:
            return value
    return str(value)


@register.filter
def summary_items(value, object_type: str = ""):
    """A before/after summary as (label, shown value) pairs; other values as one item."""
    if isinstance(value, dict):
        fields = {k: _field(k, object_type) for k in value}
        return [(_label(k, fields[k]), _shown(k, v, fields[k])) for k, v in value.items()]
    if value in (None, ""):
        return []
    return [("", _value(value))]


@register.filter
def object_label(object_type: str) -> str:
    """The kind of object an event is about, in Chinese (the model's name), or as stored."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name) if object_type and "." in object_type else ""
    except (LookupError, ValueError):
        return object_type
