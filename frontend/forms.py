"""Forms of the pages: the task lists' filters (read from the query string) and the FBI task form.

A filter that does not validate (an unknown study, a typed-in sort) is reported on the page and left
out, so a bad link shows the whole list with a message instead of an error page.
"""

from __future__ import annotations

from django import forms

from annotator import keypoints
from annotator.selectors.queues import DEFAULT_SORT, TASK_SORTS, TaskFilters

ANY = ("", "any")


class TaskFilterForm(forms.Form):
    """The filters and order of a task list; choices come from ``selectors.queues.task_filter_choices``."""

    status = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False)
    dataset = forms.ChoiceField(required=False)
    study = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    assignee = forms.ChoiceField(required=False, label="annotator")
    sort = forms.ChoiceField(required=False, choices=[(k, label) for k, (label, _) in TASK_SORTS.items()])

    def __init__(self, data, *, choices: dict, default_status: str = "", **kwargs) -> None:
        data = data.copy()
        if "status" not in data and default_status:
            data["status"] = default_status
        super().__init__(data, **kwargs)
        self.fields["status"].choices = [ANY, *choices["statuses"]]
        self.fields["kind"].choices = [ANY, *choices["kinds"]]
        self.fields["dataset"].choices = [ANY, *[(d, d) for d in choices["datasets"]]]
        self.fields["study"].choices = [ANY, *[(str(pk), name) for pk, name in choices["studies"]]]
        if choices["assignees"]:
            self.fields["assignee"].choices = [ANY, *[(u, u) for u in choices["assignees"]]]
        else:
            del self.fields["assignee"]

    def filters(self) -> TaskFilters:
        """The valid filters (invalid ones are left out; ``errors`` says which)."""
        self.is_valid()
        clean = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        return TaskFilters(
            status=clean.get("status") or None,
            kind=clean.get("kind") or None,
            dataset=clean.get("dataset") or None,
            study=clean.get("study"),
            assignee=clean.get("assignee") or None,
            sort=clean.get("sort") or DEFAULT_SORT,
        )

    def error_text(self) -> str:
        """One line naming the filters that were left out and why."""
        if not self.is_bound or not self.errors:
            return ""
        parts = [f"{name}: {' '.join(errors)}" for name, errors in self.errors.items()]
        return "some filters were ignored (" + "; ".join(parts) + ")"


class FBITasksForm(forms.Form):
    """FBI labelling tasks on a random sample of a dataset's frames (``services.fbi.fbi_tasks_create``)."""

    dataset = forms.ChoiceField()
    frames = forms.IntegerField(min_value=1, max_value=100_000, initial=10)
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=0)
    annotators = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    per_frame = forms.IntegerField(min_value=1, max_value=100, initial=1, label="annotators per frame")
    bones = forms.ChoiceField(
        choices=[(s, s) for s in keypoints.ALL_BONE_SUBSETS], initial=keypoints.DEFAULT_BONE_SUBSET
    )  # the dataset's layout decides (service)

    def __init__(self, *args, datasets: list[str], annotators: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [(d, d) for d in datasets]
        self.fields["annotators"].choices = [(u, u) for u in annotators]
