"""No secret in git: the storage URL carries no password; libpq takes it from the environment."""

from pathlib import Path

import optuna
import pytest

from harness.dvc_repo import ROOT, DvcRepo
from harness.postgres import running_server
from themetag.errors import InputError
from themetag.pipeline.compose import compose

SECRET = "Tr0ub4dor-s3cret-pw"


@pytest.fixture
def pg_with_password():
    yield from running_server(SECRET)


def test_password_from_the_environment_reaches_the_server_and_lands_nowhere(pg_with_password, tmp_path):
    url = pg_with_password  # postgresql+psycopg2://postgres@127.0.0.1:<port>/postgres: no password
    repo = DvcRepo(
        tmp_path / "p",
        train_rows=300,
        test_rows=40,
        overrides=[f"tuning.storage={url}", "models.families=[logreg]", "models.spaces=[tfidf]"],
    )
    repo.env["PGPASSWORD"] = SECRET
    repo.commit("tuning on a password-protected server")
    proc = repo.run("dvc", "repro")
    studies = optuna.get_all_study_summaries(
        optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"password": SECRET}}),
        include_best_trial=False,
    )
    assert any(s.study_name.startswith("logreg-tfidf:") for s in studies)  # tuning really used the server
    assert SECRET not in proc.stdout + proc.stderr
    files = [repo.path / n for n in ("params.yaml", "conf.lock.yaml")] + sorted(repo.path.rglob("dvc.lock"))
    assert len(files) == 4  # the root's lock and stages/tuning's
    files += [p for p in Path(repo.path / "metrics").rglob("*") if p.is_file()]
    for path in files:
        assert SECRET not in path.read_text(errors="replace"), path


def test_a_password_in_the_url_is_refused_in_one_line_that_says_where_it_goes():
    with pytest.raises(InputError) as err:
        compose(ROOT / "conf", ["tuning.storage=postgresql://optuna:hunter2@dbhost/optuna"])
    message = str(err.value)
    assert "\n" not in message and "hunter2" not in message
    assert message.startswith("tuning.storage: the URL holds a password")
    assert "'postgresql://optuna@dbhost/optuna'" in message and "PGPASSWORD" in message and "~/.pgpass" in message
