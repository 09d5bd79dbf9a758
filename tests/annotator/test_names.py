"""Names that become URLs and paths (annotator/names.py): datasets and studies are slugs at every entry point
(services, commands, API, admin, the database itself), rows named before the rule are renamed by a migration,
and files the tool writes stay under their root."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from rest_framework.test import APIClient

from annotator import names
from annotator.models import Dataset, Study
from annotator.names import BadNameError, OutsideRootError, name_check, path_under
from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_files import write_release

#: Names that broke pages (NoReverseMatch for everyone) or sent files elsewhere, and other non-slugs.
BAD_NAMES = ["<img src=x>", "../../../../tmp/x", "a/b", "", " ", "abc\n", "naïve", "a" * 101, "x.json", "semi;colon"]
GOOD_NAMES = ["h3wb-train", "S1_walking", "a", "a" * 100, "2024-study"]


class NameCheckTests:
    @pytest.mark.parametrize("name", GOOD_NAMES)
    def test_slugs_pass(self, name):
        assert name_check(name, what="dataset") == name

    @pytest.mark.parametrize("name", [*BAD_NAMES, None, 5, b"bytes"])
    def test_anything_else_is_refused_with_the_rule(self, name):
        with pytest.raises(BadNameError, match="cannot be a dataset name: use 1 to 100 ASCII letters"):
            name_check(name, what="dataset")


class PathUnderTests:
    def test_a_plain_relative_path_is_resolved_under_the_root(self, tmp_path):
        assert path_under(tmp_path, "exports/1-a-dataset.json") == tmp_path.resolve() / "exports/1-a-dataset.json"

    @pytest.mark.parametrize("relative", ["../x", "exports/../../x", "/tmp/x", ".", ""])
    def test_anything_that_leaves_the_root_is_refused(self, tmp_path, relative):
        with pytest.raises(OutsideRootError, match="would lie outside"):
            path_under(tmp_path / "root", relative)

    def test_a_symlink_out_of_the_root_is_refused(self, tmp_path):
        root = tmp_path / "root"
        root.mkdir()
        (root / "exports").symlink_to(tmp_path)
        with pytest.raises(OutsideRootError):
            path_under(root, "exports/1.json")


def test_every_slug_named_model_has_the_database_constraint():
    """A model whose name becomes a URL (a SlugField) must refuse other names in the database too."""
    from django.apps import apps

    missing = []
    for model in apps.get_app_config("annotator").get_models():
        for field in model._meta.fields:
            if isinstance(field, models.SlugField):
                wanted = names.slug_constraint(model._meta.model_name, field.name)
                if not any(c.name == wanted.name and c.condition == wanted.condition for c in model._meta.constraints):
                    missing.append(f"{model.__name__}.{field.name}")
    assert not missing, f"add names.slug_constraint to {missing}"


@pytest.mark.django_db
class DatabaseTests:
    @pytest.mark.parametrize("name", BAD_NAMES[:5])
    def test_the_database_refuses_a_bad_name_whatever_the_entry_point(self, name):
        with pytest.raises(IntegrityError), transaction.atomic():
            Dataset.objects.create(name=name)
        dataset = Dataset.objects.create(name="ok")
        with pytest.raises(IntegrityError), transaction.atomic():
            Study.objects.create(name=name, dataset=dataset, n_items=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Dataset.objects.filter(pk=dataset.pk).update(name=name)


@pytest.mark.django_db
class EntryPointTests:
    @pytest.mark.parametrize("name", ["<img src=x>", "../../../../tmp/x"])
    def test_the_import_command_refuses_it_and_imports_nothing(self, tmp_path, name):
        written = write_release(tmp_path / "release.json", [("S1", "Walking 1", 10)])
        with pytest.raises(CommandError, match="cannot be a dataset name"):
            call_command("import_h3wb", annotations=str(written.path), dataset=name, no_progress=True)
        assert not Dataset.objects.exists()

    def test_the_import_service_refuses_before_reading_the_file(self, tmp_path):
        with pytest.raises(BadNameError):
            dataset_import_h3wb(dataset_name="a/b", annotations=tmp_path / "does-not-exist.json")

    def test_the_study_service_and_api_refuse_it(self, frames, users):
        from annotator.services.studies import study_create

        with pytest.raises(BadNameError, match="cannot be a study name"):
            study_create(name="<b>x</b>", dataset="tasks-test", subjects=None, n_items=1, mode="frame", seed=0,
                         annotators=["ann"])  # fmt: skip
        client = APIClient()
        client.force_authenticate(users["reviewer"])
        body = {"name": "../x", "dataset": "tasks-test", "n_items": 1, "annotators": ["ann"]}
        response = client.post("/api/studies/", body, format="json")
        assert response.status_code == 400 and "name" in response.json()["message"]
        assert not Study.objects.exists()

    def test_the_admin_cannot_add_or_rename_a_dataset(self, frames, users):
        client = Client()
        client.force_login(users["admin"])
        form = {"name": "<img src=x>", "description": "", "source_format": "h3wb", "layout_version": "1",
                "image_root": ""}  # fmt: skip
        assert client.post("/admin/annotator/dataset/add/", form).status_code == 403
        dataset = Dataset.objects.get()
        page = client.get(f"/admin/annotator/dataset/{dataset.pk}/change/").content.decode()
        assert 'name="name"' not in page  # shown, not editable
        client.post(f"/admin/annotator/dataset/{dataset.pk}/change/", {**form, "description": "renamed?"})
        dataset.refresh_from_db()
        assert dataset.name == "tasks-test" and Dataset.objects.count() == 1

    def test_pages_that_list_datasets_work(self, frames, users):
        client = Client()
        client.force_login(users["annotator"])
        assert client.get("/").status_code == 200
        assert client.get("/api/datasets/").status_code == 200


@pytest.mark.django_db
class ExportPathTests:
    def test_an_export_whose_file_would_leave_media_root_writes_nothing(self, frames, users, monkeypatch, settings):
        from annotator.services import exports
        from annotator.tasks import job_chunk_task

        export = exports.export_create(dataset_name="tasks-test", fmt="h3wb", version="dataset")
        outside = settings.MEDIA_ROOT.parent / f"escaped-{export.pk}.json"
        monkeypatch.setattr(exports, "export_file_name", lambda export: f"../{outside.name}")
        job_chunk_task.call(export.job_id, 0)
        export.refresh_from_db()
        assert "would lie outside" in export.error and export.job.status == "failed"
        assert not outside.exists()


@pytest.mark.django_db(transaction=True)
class RenameMigrationTests:
    """Rows named before the rule: the migration renames them to a slug and keeps the old name on record."""

    BEFORE = ("annotator", "0006_fbianswer_fbiautolabels_and_more")
    AFTER = ("annotator", "0007_names_are_slugs_lock_sessions")

    def test_bad_names_become_unique_slugs(self, capsys):
        executor = MigrationExecutor(connection)
        executor.migrate([self.BEFORE])
        old = executor.loader.project_state([self.BEFORE]).apps
        dataset_model, study_model = old.get_model("annotator", "Dataset"), old.get_model("annotator", "Study")
        kept = dataset_model.objects.create(name="img-srcx", description="")
        bad = dataset_model.objects.create(name="<img src=x>", description="the demo")
        empty = dataset_model.objects.create(name="???", description="")
        study = study_model.objects.create(name="../../x", dataset=kept, n_items=1)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([self.AFTER])
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

        assert Dataset.objects.get(pk=kept.pk).name == "img-srcx"
        renamed = Dataset.objects.get(pk=bad.pk)
        assert renamed.name == "img-srcx-2" and "renamed from '<img src=x>'" in renamed.description
        assert renamed.description.startswith("the demo")
        assert Dataset.objects.get(pk=empty.pk).name == f"dataset-{empty.pk}"
        assert Study.objects.get(pk=study.pk).name == "x"
        assert "renamed dataset '<img src=x>' to 'img-srcx-2'" in capsys.readouterr().out
