"""The people one chunk of a job works on: those of one county (or of every county) whose ids lie in
(after_id, upto_id], a bound left open when None. A person-year depends on no other person, so the cross-check and
the secondary trigger can run chunk by chunk, each over its own people only."""

from dataclasses import dataclass

from django.db.models import Q

from recipients.models import Person, Township
from settlements.models import Settlement

TOWNSHIPS = Township._meta.db_table
PERSONS, SETTLEMENTS = Person._meta.db_table, Settlement._meta.db_table


@dataclass(frozen=True)
class PersonRange:
    county_id: int | None = None
    after_id: int | None = None
    upto_id: int | None = None

    @property
    def everybody(self) -> bool:
        return self.county_id is None and self.after_id is None and self.upto_id is None

    def sql(self, *, person: str = "p.id", township: str = "p.township_id") -> str:
        """The condition in SQL, each part led by AND (empty for everybody): `person` and `township` are the SQL
        expressions of the person's id and township. Only integers are written into the text."""
        parts = []
        if self.county_id is not None:
            parts.append(f"{township} IN (SELECT id FROM {TOWNSHIPS} WHERE county_id = {int(self.county_id)})")
        if self.after_id is not None:
            parts.append(f"{person} > {int(self.after_id)}")
        if self.upto_id is not None:
            parts.append(f"{person} <= {int(self.upto_id)}")
        return "".join(f" AND {part}" for part in parts)

    def bounds_sql(self, person: str) -> str:
        """The id bounds alone, each led by AND (empty when open): for a subquery that reaches the person by id, so
        that it reads only the chunk's rows, through an index on the id, not the whole table."""
        parts = []
        if self.after_id is not None:
            parts.append(f" AND {person} > {int(self.after_id)}")
        if self.upto_id is not None:
            parts.append(f" AND {person} <= {int(self.upto_id)}")
        return "".join(parts)

    def q(self, person: str = "person") -> Q:
        """The condition for a queryset whose rows reach the person through `person` ("" for Person itself)."""
        prefix = f"{person}__" if person else ""
        q = Q()
        if self.county_id is not None:
            q &= Q(**{f"{prefix}township__county_id": self.county_id})
        if self.after_id is not None:
            q &= Q(**{f"{prefix}pk__gt": self.after_id})
        if self.upto_id is not None:
            q &= Q(**{f"{prefix}pk__lte": self.upto_id})
        return q


EVERYBODY = PersonRange()


def settlements_from(*, by_person: bool) -> str:
    """The FROM clause of the settlements s dated in [%(start)s, %(end)s), their people p and townships t.

    Whole tables are joined by hashing. A chunk's people (`by_person`) reach their settlements through the
    (ID number, service date) index one person at a time, in a subquery the planner may not flatten (OFFSET 0;
    it stays a nested loop when the caller turns nested loops off for the other joins): left to itself the
    planner read the whole settlement table for every chunk (30 times over 3,000,000 settlements), so that a
    job's time per settlement grew with the table. (PostgreSQL only: SQLite has no LATERAL.)
    """
    if not by_person:
        return f"""FROM {SETTLEMENTS} s
JOIN {PERSONS} p ON p.id_number = s.id_number
JOIN {TOWNSHIPS} t ON t.id = p.township_id"""
    return f"""FROM {PERSONS} p
JOIN {TOWNSHIPS} t ON t.id = p.township_id
CROSS JOIN LATERAL (
    SELECT * FROM {SETTLEMENTS} s1
    WHERE s1.id_number = p.id_number AND s1.service_date >= %(start)s AND s1.service_date < %(end)s
    OFFSET 0
) s"""
