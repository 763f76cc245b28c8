"""The deployment package and the project archive (widgets.packages), made from the dashboard, offered for download,
and imported back."""

from __future__ import annotations

import tarfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tiny_models import write_model
from widgets.dashboard import Dashboard
from widgets.packages import download_link, import_destination


def test_download_link_only_under_voila_root(tmp_path: Path) -> None:
    package = tmp_path / "projects" / "p" / "deploy" / "p-optimized-deploy.zip"
    package.parent.mkdir(parents=True)
    package.write_bytes(b"x" * 2000)
    link = download_link(package, tmp_path)
    assert 'href="/voila/files/projects/p/deploy/p-optimized-deploy.zip"' in link and "Download p-optimized-deploy.zip" in link
    elsewhere = download_link(package, tmp_path / "other")
    assert "href" not in elsewhere and str(package) in elsewhere


@pytest.fixture
def small_dashboard_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """New dashboards start on a tiny model and the embedded photos (a run takes seconds): these tests are about the
    packages, not the model; the browser and notebook tests run the fixture model through the dashboard."""
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL", str(write_model(tmp_path / "model")))
    monkeypatch.setenv("SEGWB_DASHBOARD_BENCH_SECONDS", "0.2")


@pytest.mark.usefixtures("small_dashboard_env")
def test_deploy_and_export_from_the_dashboard(tmp_path: Path) -> None:
    app = Dashboard(tmp_path / "projects")
    assert app.packages.deploy_button.disabled and "accuracy report first" in app.packages.result.value
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    assert not app.packages.deploy_button.disabled
    app.packages.deploy_button.click()
    assert app.runner.wait(120) and app.runner.state == "done", app.runner.error.value
    package = next((app.project / "deploy").glob("*.zip"))
    assert str(package.resolve()) in app.packages.result.value
    assert any(n.endswith("/infer.py") for n in zipfile.ZipFile(package).namelist())
    app.packages.export_button.click()
    assert app.runner.wait(120) and app.runner.state == "done", app.runner.error.value
    archive = next((app.project / "export").glob("*.tar.gz"))
    assert str(archive.resolve()) in app.packages.result.value
    with tarfile.open(archive) as tar:
        assert any(n.endswith("/description.txt") for n in tar.getnames())


def test_import_destination_never_reuses_a_folder(tmp_path: Path) -> None:
    first = import_destination(tmp_path, Path("/x/my project.tar.gz"))
    assert first == tmp_path / "my_project"
    first.mkdir()
    assert import_destination(tmp_path, Path("my project.tgz")) == tmp_path / "my_project-2"


@pytest.mark.usefixtures("small_dashboard_env")
def test_import_opens_the_project_and_survives_a_reload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    maker = Dashboard(tmp_path / "maker")
    assert maker.run_step("report") and maker.runner.wait(300) and maker.runner.state == "done", maker.runner.error.value
    maker.packages.export_button.click()
    assert maker.runner.wait(120) and maker.runner.state == "done", maker.runner.error.value
    archive = next((maker.project / "export").glob("*.tar.gz"))

    app = Dashboard(tmp_path / "other")
    assert not app.packages.import_path() and "type the path" in app.packages.import_message.value
    app.packages.archive_path.value = str(tmp_path / "missing.tar.gz")
    assert app.packages.import_path() and app.runner.wait(60) and app.runner.state == "failed"
    assert "missing.tar.gz" in app.runner.error.value and not (tmp_path / "other" / "imported").exists()

    app.packages.archive_path.value = str(archive)
    assert app.packages.import_path() and app.runner.wait(120) and app.runner.state == "done", app.runner.error.value
    opened = tmp_path / "other" / "imported" / archive.name.removesuffix(".tar.gz")
    assert app.opened == app.project == opened
    assert "Opened project" in app.project_label.value and "as recorded" in app.next_steps_tab.text.value
    assert app.table.rows and "No report yet" not in app.report_tab.summary.value
    assert not app.packages.deploy_button.disabled  # deploy from the opened project works as from any other
    assert "opened project holds one optimized model" in app.optimize_tab.methods.value

    def upload() -> None:
        data = archive.read_bytes()
        app.packages.archive_upload.value = ({"name": archive.name, "type": "application/gzip", "size": len(data),
                                              "content": memoryview(data), "last_modified": datetime.now(timezone.utc)},)

    monkeypatch.setenv("SEGWB_UPLOAD_LIMIT_MB", "0.001")
    upload()
    assert "over the" in app.packages.import_message.value and not app.runner.busy
    monkeypatch.delenv("SEGWB_UPLOAD_LIMIT_MB")
    upload()  # the same archive again: a second folder, and the uploaded copy is gone afterwards
    assert app.runner.wait(120) and app.runner.state == "done", app.runner.error.value
    assert app.opened == opened.with_name(opened.name + "-2") and app.table.rows
    assert not any((tmp_path / "other" / "uploads" / "archives").iterdir())

    again = Dashboard(tmp_path / "other")  # a reload reopens it
    assert again.opened == opened.with_name(opened.name + "-2") and again.table.rows
    again.optimize_tab.method.value = "accuracy_aware"  # touching the form goes back to the form's project, for good
    assert again.opened is None and again.project != opened
    assert Dashboard(tmp_path / "other").opened is None
