import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_storage_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["storage"]["ok"] and body["task_queue"]["ok"]


def test_healthz_fails_when_storage_is_unwritable(client, settings, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "private")},
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["storage"]["ok"] is False


def test_openapi_schema_documents_the_intake_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["multipart/form-data"]
    properties = body["schema"]["properties"]
    assert properties["video"]["format"] == "binary"
    assert {"id_type", "id_number", "fingerprint_code", "residence_country"} <= set(properties)
