"""Comparing settle_stage with the stored settlements and writing the difference (PostgreSQL).

The stage holds a file's clean rows (sql.py, bulk.py or the Python checks put them there): the preview counts
what writing would change; the write finds new and changed rows with one join and touches only those.
"""

from .sql import STAGE_COLUMNS

_COMPARED = (
    "id_number, name, hospital, visit_type, admitted_on, discharged_on, visit_on, service_date, settled_on, "
    "total, in_policy, basic, critical, other, onestop, out_of_area, diagnosis, major_disease"
)


def _row(alias: str) -> str:
    return "(" + ", ".join(f"{alias}.{c.strip()}" for c in _COMPARED.split(",")) + ")"


PREVIEW_SQL = f"""
SELECT count(*) FILTER (WHERE e.number IS NULL),
       count(*) FILTER (WHERE e.number IS NOT NULL AND {_row("s")} IS DISTINCT FROM {_row("e")}),
       count(*) FILTER (WHERE e.number IS NOT NULL AND {_row("s")} IS NOT DISTINCT FROM {_row("e")}),
       (array_agg(s.number ORDER BY s.row_no)
            FILTER (WHERE e.number IS NOT NULL AND {_row("s")} IS DISTINCT FROM {_row("e")}))[1:200]
FROM settle_stage s LEFT JOIN settlements_settlement e ON e.number = s.number
"""

PEOPLE_SQL = """
SELECT DISTINCT p.id FROM settle_stage s JOIN recipients_person p ON p.id_number = s.id_number
"""

UNREGISTERED_SQL = """
SELECT count(*) FROM settle_stage s
WHERE NOT EXISTS (SELECT 1 FROM recipients_person p WHERE p.id_number = s.id_number)
"""

_SET = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _COMPARED.split(","))

# The import lock keeps other writers out, so new rows are plain inserts (no speculative
# insertion) and changed rows one UPDATE; identical rows are not touched. One join finds both:
# a re-imported file usually has neither, and then nothing else runs.
DIFF_SQL = f"""
CREATE TEMP TABLE settle_diff ON COMMIT DROP AS
SELECT s.number, e.number IS NULL AS new
FROM settle_stage s LEFT JOIN settlements_settlement e ON e.number = s.number
WHERE e.number IS NULL OR {_row("e")} IS DISTINCT FROM {_row("s")}
"""

DIFF_COUNTS_SQL = "SELECT count(*) FILTER (WHERE new), count(*) FILTER (WHERE NOT new) FROM settle_diff"

UPDATE_SQL = f"""
WITH written AS (
    UPDATE settlements_settlement e SET {_SET.replace("excluded.", "s.")}, last_import_id = %(import_id)s
    FROM settle_stage s JOIN settle_diff d ON d.number = s.number AND NOT d.new
    WHERE e.number = s.number
    RETURNING e.number
)
SELECT count(*), (array_agg(number))[1:200] FROM written
"""

INSERT_SQL = f"""
INSERT INTO settlements_settlement ({STAGE_COLUMNS}, last_import_id)
SELECT {", ".join("s." + c.strip() for c in STAGE_COLUMNS.split(","))}, %(import_id)s
FROM settle_stage s JOIN settle_diff d ON d.number = s.number AND d.new
ORDER BY s.number
"""
