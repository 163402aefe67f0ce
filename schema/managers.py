"""Staff access levels per section (MGR-1), as papergraph stores them (`manager_access`)."""

from __future__ import annotations

from enum import Enum

import strawberry

from auth.principals import SECTIONS


StaffSection = strawberry.enum(Enum("StaffSection", {section.upper(): section for section in SECTIONS}),
                               description="MGR-1: a section of the staff console.")


@strawberry.enum(description="MGR-1: read needs READ_ONLY or more; every change needs FULL_CONTROL.")
class ManagerAccessLevel(Enum):
    NO_ACCESS = "NO_ACCESS"
    READ_ONLY = "READ_ONLY"
    FULL_CONTROL = "FULL_CONTROL"


@strawberry.type(description="A manager's access level to one section.")
class SectionAccess:
    section: StaffSection
    level: ManagerAccessLevel


@strawberry.type(description="A manager's access levels, every section listed (NO_ACCESS unless set).")
class ManagerAccess:
    manager_subject: str
    sections: list[SectionAccess]

    @classmethod
    def from_rows(cls, subject: str, rows) -> "ManagerAccess":
        levels = {row.section: row.level for row in rows}
        return cls(manager_subject=subject, sections=[
            SectionAccess(section=section, level=ManagerAccessLevel(levels.get(section.value, "NO_ACCESS")))
            for section in StaffSection])


@strawberry.input
class SectionAccessInput:
    section: StaffSection
    level: ManagerAccessLevel
