"""`export contacts`: the contact persons, for administrators only, audited as a disclosure.

Contact persons are personal information: an institution sees them only under the enterprise's
consent (services/disclosure). A bulk export takes them out of the product altogether, so only an
administrator may do it, and each export is written to the audit log with its size and format.
"""

from pathlib import Path

from sqlmodel import Session

from models.errors import DomainError
from models.reference import ConsentScope, UserRole
from services.accounts.service import find_user
from services.audit.repository import append_audit
from services.exports import repository as repo
from services.exports.service import write_rows

#: The actor of a command run at the server itself (whoever holds the database's credentials).
OPERATOR = "cli"
HEADER = ["id", "enterprise_id", "enterprise_name", "enterprise_uscc", "name", "title", "phone",
          "email", "is_primary", "created_at"]  # fmt: skip


def check_admin(session: Session, username: str) -> None:
    """Refuse anyone but an active administrator account (or the server's operator)."""
    if username == OPERATOR:
        return
    user = find_user(session, username)
    if user is None or not user.active or user.role != UserRole.admin:
        raise DomainError(f"导出联系人仅限管理员：“{username}”不是有效的管理员账号", field="user")


def export_contacts(session: Session, out: Path, fmt: str, actor: str) -> int:
    """Write every contact person to `out` (csv or xlsx); audited; return the rows written."""
    check_admin(session, actor)
    rows = (
        [c.id, c.enterprise_id, name, uscc, c.name, c.title, c.phone, c.email, c.is_primary,
         c.created_at.isoformat()]
        for c, name, uscc in repo.contacts_with_enterprises(session)
    )  # fmt: skip
    count = write_rows(HEADER, rows, out, fmt, sheet="contacts")
    append_audit(session, actor=actor, action="disclose", entity="contact_person", entity_id=None,
                 detail={"scope": ConsentScope.contacts.value, "export": out.name,
                         "format": fmt, "rows": count})  # fmt: skip
    return count
