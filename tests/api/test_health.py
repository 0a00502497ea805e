from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from db.engine import make_engine
from db.migrate import downgrade, upgrade


def test_healthz_answers_while_up(http: TestClient) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_while_the_database_is_reachable(http: TestClient) -> None:
    response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_is_503_problem_when_the_database_is_unreachable() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere", migrate_on_start=False
    )
    with TestClient(create_app(settings)) as http:
        assert http.get("/healthz").status_code == 200
        response = http.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The database is unreachable."


def test_readyz_is_503_until_the_schema_is_migrated(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    upgrade(engine)
    downgrade(engine, "base")
    engine.dispose()
    app = create_app(Settings(database_url=url, migrate_on_start=False))
    with TestClient(app) as http:
        assert http.get("/readyz").status_code == 503
        upgrade(app.state.engine)
        assert http.get("/readyz").status_code == 200
