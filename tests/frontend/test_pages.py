"""Pages: sign-in, the dataset list and a dataset's overview, in Django's client and in Chromium."""

from __future__ import annotations

import pytest
from django.test import Client

from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_files import write_release

FRAMES = [("S1", "Walking 1", 5), ("S1", "Walking 1", 10), ("S5", "Eating", 20)]


@pytest.fixture
def demo_dataset(db, tmp_path):
    written = write_release(tmp_path / "rel.json", FRAMES)
    dataset_import_h3wb(dataset_name="demo", annotations=written.path, description="three frames")
    return "demo"


@pytest.mark.django_db
class PageTests:
    def test_home_requires_sign_in(self):
        response = Client().get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_home_lists_datasets(self, users, demo_dataset):
        client = Client()
        client.force_login(users["annotator"])
        html = client.get("/").content.decode()
        assert "demo" in html and "three frames" in html
        assert "right_hand" in html  # the layout section, rendered from keypoints.layout_json()

    def test_dataset_page(self, users, demo_dataset):
        client = Client()
        client.force_login(users["annotator"])
        html = client.get("/datasets/demo/").content.decode()
        assert "12 views" in html
        assert "Walking 1" in html

    def test_unknown_dataset_page_is_404(self, users):
        client = Client()
        client.force_login(users["annotator"])
        assert client.get("/datasets/none/").status_code == 404

    def test_admin_shows_the_models(self, users):
        client = Client()
        client.force_login(users["admin"])
        html = client.get("/admin/").content.decode()
        for model in ("Datasets", "Subjects", "Cameras", "Sequences", "Frames", "Views", "Skeleton3d"):
            assert model.lower() in html.lower()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_and_browse_in_chromium(browser, live_server, users, demo_dataset, artifacts):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "pw-ann-123")
    page.click("button[type=submit]")
    page.wait_for_selector("table.grid")
    assert page.locator("table.grid tbody tr").count() == 1
    page.screenshot(path=str(artifacts / "home.png"))
    page.click("text=demo")
    page.wait_for_selector("h1:has-text('demo')")
    assert "S5" in page.inner_text("table.grid")
    page.screenshot(path=str(artifacts / "dataset.png"))
    page.close()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "sees_review"), [("annotator", False), ("reviewer", True), ("admin", True)])
def test_navigation_shows_review_and_exports_to_reviewers_only(users, role, sees_review):
    client = Client()
    client.force_login(users[role])
    html = client.get("/").content.decode()
    assert ('href="/review/"' in html) is sees_review
    assert ('href="/exports/"' in html) is sees_review
    assert 'href="/tasks/"' in html
