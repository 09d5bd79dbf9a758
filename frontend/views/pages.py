"""The datasets, one dataset with its frames, and one frame with every skeleton version in every view."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from annotator import keypoints, selectors
from annotator.selectors import frames as frame_selectors
from frontend.views.common import is_reviewer, or_404, reviewer_page

#: Frames listed per page of a dataset.
FRAMES_PER_PAGE = 50


@login_required
def home(request):
    return render(
        request,
        "frontend/home.html",
        {"datasets": selectors.dataset_list(), "layout": keypoints.layout_json()},
    )


@login_required
def dataset_detail(request, name: str):
    """A dataset's subjects and versions; reviewers also get its frames, page by page, each linking to its page."""
    dataset = or_404(selectors.dataset_get, name=name)
    context = {"overview": selectors.dataset_overview(dataset=dataset)}
    if is_reviewer(request.user):
        subject = request.GET.get("subject") or None
        action = request.GET.get("action") or None
        frames = frame_selectors.dataset_frames(dataset=dataset, subject=subject, action=action)
        context["frames"] = Paginator(frames, FRAMES_PER_PAGE).get_page(request.GET.get("page"))
        context["frame_filter"] = {"subject": subject or "", "action": action or ""}
        query = request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
    return render(request, "frontend/dataset.html", context)


@reviewer_page
def frame_detail(request, frame_id: int):
    """One frame: every view with two skeleton versions of choice, their displacements, and the tasks on it."""
    frame = or_404(frame_selectors.frame_get, frame_id=frame_id)
    payload = frame_selectors.frame_viewer_payload(frame=frame)
    return render(request, "frontend/frame.html", {"payload": payload, "frame": payload["frame"]})
