"""The stylesheet reaches the browser without DEBUG and without a collectstatic step (the run command)."""

from django.test import Client, override_settings


@override_settings(DEBUG=False)
def test_the_stylesheet_is_served_without_debug_or_collectstatic():
    response = Client().get("/static/soskdt/app.css")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"--brand" in body
