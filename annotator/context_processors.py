"""Template context every page needs: the signed-in user's role, so navigation shows what they may use."""

from __future__ import annotations

from annotator import access, roles


def role(request) -> dict:
    current = roles.user_role(getattr(request, "user", None))
    return {"user_role": current, "can_review": access.role_reviews(current)}
