"""Template views only: each page gets its data from a selector and renders it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from annotator import keypoints, selectors
from annotator.exceptions import NotFoundError


@login_required
def home(request):
    return render(
        request,
        "frontend/home.html",
        {"datasets": selectors.dataset_list(), "layout": keypoints.layout_json()},
    )


@login_required
def dataset_detail(request, name: str):
    try:
        dataset = selectors.dataset_get(name=name)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
    return render(request, "frontend/dataset.html", {"overview": selectors.dataset_overview(dataset=dataset)})
