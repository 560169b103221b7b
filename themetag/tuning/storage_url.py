"""The Optuna storage URL must not carry a password: params.yaml, dvc.lock and git would keep it."""

from __future__ import annotations

from themetag.errors import InputError

WHERE_INSTEAD = (
    "give it to libpq instead, which psycopg2 reads: `export PGPASSWORD=...` in the shell that runs dvc, "
    "a line `host:port:database:user:password` in ~/.pgpass (chmod 600), or a service in ~/.pg_service.conf"
)


def refuse_password(url: str, where: str = "tuning.storage") -> None:
    """Stop with one line when ``url`` (an SQLAlchemy URL) holds a password."""
    if not url or url.startswith("journal:"):
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # not a URL: Optuna's own error names it
    if parsed.password is not None:
        bare = parsed._replace(password=None).render_as_string(hide_password=False)
        raise InputError(
            f"{where}: the URL holds a password, which would land in params.yaml, dvc.lock and git; "
            f"write {bare!r} and {WHERE_INSTEAD}"
        )
