"""Creating users with roles (the demo's accounts, and admins adding people from the command line)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from annotator import roles


@transaction.atomic
def user_ensure(*, username: str, password: str, role: str) -> tuple[object, bool]:
    """Create ``username`` with ``role`` unless it exists; returns (user, created).

    An existing account keeps its password (a person may have changed it); its role is granted.
    """
    if role not in roles.ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(roles.ROLES)}")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    created = user is None
    if created:
        if role == roles.ADMIN:
            user = User.objects.create_superuser(username=username, password=password)
        else:
            user = User.objects.create_user(username=username, password=password)
    if role == roles.ADMIN:
        if not (user.is_staff and user.is_superuser):
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
    else:
        group, _ = Group.objects.get_or_create(name=roles.GROUPS[role])
        user.groups.add(group)
    return user, created
