"""The Exports page: exports of a dataset version (the list and the form talk to the API) and the evaluation
of an uploaded predictions file. Reviewers and admins only, like the export API."""

from __future__ import annotations

from django.shortcuts import render

from annotator import evaluation, selectors
from annotator.exceptions import ApplicationError
from annotator.exporters import FORMATS
from annotator.exporters.versions import NAMED_VERSIONS
from frontend.views.common import api_url, reviewer_page


@reviewer_page
def exports(request):
    form = {"dataset": "", "version": "dataset", "task": ""}
    report, error = None, ""
    if request.method == "POST":
        form = {key: request.POST.get(key, default) for key, default in form.items()}
        upload = request.FILES.get("predictions")
        try:
            if upload is None:
                raise ApplicationError("choose a predictions file")
            report = evaluation.evaluate_upload(upload=upload, dataset_name=form["dataset"], version=form["version"],
                                                task=form["task"] or None)  # fmt: skip
        except ApplicationError as exc:
            error = exc.message
    context = {
        "config": {"exports_url": api_url("export-list")},
        "datasets": selectors.dataset_list(),
        "formats": FORMATS,
        "versions": NAMED_VERSIONS,
        "tasks": evaluation.TASKS,
        "form": form,
        "max_upload_mb": evaluation.MAX_PREDICTIONS_BYTES // (1024 * 1024),
        "report": report,
        "rows": evaluation.report_rows(report) if report else [],
        "columns": [label for _, label in evaluation.COLUMNS],
        "evaluation_error": error,
    }
    return render(request, "frontend/exports.html", context, status=400 if error else 200)
