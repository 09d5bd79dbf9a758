"""The datasets, one dataset with its frames, and one frame with every skeleton version in every view."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control

from annotator import access, selectors
from annotator.selectors import frames as frame_selectors
from frontend.views.common import or_404, reviewer_page

#: Frames listed per page of a dataset.
FRAMES_PER_PAGE = 50
#: The site's icon: browsers ask for /favicon.ico on every page that names none (the API's pages, the admin),
#: and a 404 there is an error in every console.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d2330"/>'
    '<circle cx="8" cy="4" r="2" fill="#3399ff"/><path d="M8 6v5M5 8h6M8 11l-3 4M8 11l3 4" stroke="#3399ff" '
    'stroke-width="1.5" stroke-linecap="round"/></svg>'
)


@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(FAVICON_SVG, content_type="image/svg+xml")


@login_required
def home(request):
    return render(
        request,
        "frontend/home.html",
        {"datasets": selectors.dataset_list(), "layouts": selectors.layouts_in_use()},
    )


@login_required
def dataset_detail(request, name: str):
    """A dataset's subjects and versions; reviewers also get its frames, page by page, each linking to its page."""
    dataset = or_404(selectors.dataset_get, name=name)
    context = {"overview": selectors.dataset_overview(dataset=dataset)}
    if access.reviews(request.user):
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
