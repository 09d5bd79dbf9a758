"""``annotator.access``: each role x each scoped queryset and rule, on real imported frames and tasks.

Frame 0 has a task for the annotator, frame 1 one for the annotator and one for the other annotator (their
views must come back once each), frame 2 none. Anonymous and a signed-in user without a role see nothing;
annotators see their own tasks and those tasks' views; reviewers and admins see everything.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from annotator import access, roles
from annotator.models import Task, View
from tests.annotator.services.task_data import make_task

#: Who each role sees, by task name (see ``world``) and frame index.
SEES = {
    "anonymous": {"tasks": set(), "frames": set(), "reviews": False},
    "nobody": {"tasks": set(), "frames": set(), "reviews": False},
    "annotator": {"tasks": {"mine0", "mine1"}, "frames": {0, 1}, "reviews": False},
    "other": {"tasks": {"other1"}, "frames": {1}, "reviews": False},
    "reviewer": {"tasks": {"mine0", "mine1", "other1"}, "frames": {0, 1, 2}, "reviews": True},
    "admin": {"tasks": {"mine0", "mine1", "other1"}, "frames": {0, 1, 2}, "reviews": True},
}


@pytest.fixture
def world(frames, users):
    people = {**users, "anonymous": AnonymousUser(), "nobody": get_user_model().objects.create_user("nobody", "")}
    tasks = {
        "mine0": make_task(frames[0], users["annotator"]),
        "mine1": make_task(frames[1], users["annotator"]),
        "other1": make_task(frames[1], users["other"]),
    }
    return people, tasks, frames


@pytest.mark.django_db
@pytest.mark.parametrize("who", list(SEES))
class TestAccess:
    def test_tasks_visible_to(self, world, who):
        people, tasks, _ = world
        names = {t.pk: name for name, t in tasks.items()}
        visible = list(access.tasks_visible_to(user=people[who]))
        assert {names[t.pk] for t in visible} == SEES[who]["tasks"]
        assert len(visible) == len(SEES[who]["tasks"])

    def test_views_visible_to(self, world, who):
        people, _, frames = world
        visible = list(access.views_visible_to(user=people[who]).values_list("pk", flat=True))
        expected = [v.pk for i in sorted(SEES[who]["frames"]) for v in frames[i].views]
        # Each view once, even where two tasks sit on its frame (frame 1).
        assert sorted(visible) == sorted(expected)

    def test_task_visible_matches_the_queryset(self, world, who):
        people, tasks, _ = world
        user = people[who]
        for name, task in tasks.items():
            # The bare row task_get_for reads: the rule must not need more than the assignee id.
            row = Task.objects.only("id", "assignee_id").get(pk=task.pk)
            assert access.task_visible(user=user, task=row) is (name in SEES[who]["tasks"]), name

    def test_reviews(self, world, who):
        people, _, _ = world
        user = people[who]
        assert access.reviews(user) is SEES[who]["reviews"]
        assert access.role_reviews(roles.user_role(user)) is SEES[who]["reviews"]

    def test_task_editable_by_the_assignee_while_open(self, world, who):
        people, tasks, _ = world
        user = people[who]
        for name, task in tasks.items():
            mine = task.assignee_id == user.pk
            assert access.task_editable_by(user=user, task=task) is mine, name
            for status in Task.Status.values:
                task.status = status
                expected = mine and status in Task.EDITABLE_STATUSES
                assert access.task_editable_by(user=user, task=task) is expected, (name, status)


def test_reviewing_roles_are_reviewer_and_admin():
    assert set(access.REVIEWING_ROLES) == {roles.REVIEWER, roles.ADMIN}
    assert not access.role_reviews(roles.ANNOTATOR) and not access.role_reviews(None)


@pytest.mark.django_db
def test_scoped_querysets_chain_like_any_queryset(world):
    """Callers narrow and order the scoped querysets further (selectors add filters and select_related)."""
    people, tasks, frames = world
    narrowed = access.tasks_visible_to(user=people["reviewer"]).filter(assignee=people["other"])
    assert list(narrowed) == [tasks["other1"]]
    views = access.views_visible_to(user=people["annotator"]).select_related("camera").filter(frame=frames[1].frame)
    assert sorted(v.pk for v in views) == sorted(v.pk for v in frames[1].views)
    assert View.objects.count() == sum(len(f.views) for f in frames)


ROOT = Path(__file__).resolve().parents[2]
#: Where roles may be compared or group memberships read, each with its reason.
RULE_OWNERS = {
    "annotator/roles.py": "defines the roles and reads a user's groups",
    "annotator/access.py": "the rules",
    "annotator/context_processors.py": "holds the role already and asks access.role_reviews",
    "annotator/services/users.py": "grants roles (writes group memberships), decides nothing",
    "annotator/management/commands/make_demo.py": "picks demo accounts by the role it gave them",
}
#: Looking up a user's role, comparing a role, or reading group memberships is writing an access rule.
RULE = re.compile(r"user_role\(|REVIEWING_ROLES|[=!]=\s*roles\.|\bin \(roles\.|\.groups\.")


def test_no_other_module_writes_an_access_rule():
    """Who may see what is decided in ``annotator.access`` only: no other module under annotator/, api/,
    frontend/ or ml_services/ compares roles (the "reviewer or admin" rule was once written in seven places)."""
    offenders = []
    for package in ("annotator", "api", "frontend", "ml_services"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in RULE_OWNERS or "/migrations/" in rel:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if RULE.search(line):
                    offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == [], "ask annotator.access instead of comparing roles:\n" + "\n".join(offenders)
