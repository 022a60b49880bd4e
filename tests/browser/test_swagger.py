"""Swagger UI, served by `fleet up` at /docs, in real Chromium: "Try it out" calls the server the
page came from (no stage prefix the local server does not serve) and shows the answer; the page
loads nothing from another origin (Swagger UI's script and style are inlined)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.fixtures import shot, until
from tests.servers import Stack, fleet_up


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    up = fleet_up()
    yield up
    assert up.stop() == 0


def try_it_out(page, operation_id: str) -> str:
    """Open an operation, press "Try it out" then "Execute"; the response code shown."""
    block = page.locator(f"#operations-{operation_id}")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=30_000)
    return status.inner_text().strip()


def test_try_it_out_calls_the_server_the_page_came_from(page, stack):
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(f"{stack.api_url}/docs")
    until(page, 'document.querySelectorAll(".opblock").length > 5')
    assert page.locator(".servers select option").first.inner_text().strip() == "/"
    tags = page.locator(".opblock-tag").all_inner_texts()
    assert {t.split("\n")[0].strip() for t in tags} >= {"cars", "rides", "maintenance", "executions", "dlq"}

    assert try_it_out(page, "service-health_health_get") == "200"
    assert f"{stack.api_url}/health" in page.requested

    # A POST with the documented example body: it registers the example car.
    assert try_it_out(page, "cars-register_car_cars_post") == "202"
    assert f"{stack.api_url}/cars" in page.requested
    shot(page, "swagger-try-it-out", full_page=False)
    assert all(url.startswith(stack.api_url) for url in page.requested), page.requested
    # Chromium's own /favicon.ico fetch (not a request of the page: `missing` stays empty) is the one
    # 404 allowed; the API has no icon.
    errors = [e for e in page.errors if not (e.startswith("Failed to load resource") and "404" in e and not missing)]
    assert errors == [] and missing == [], (errors, missing)


def test_the_console_served_by_fleet_up_starts_an_execution_and_shows_the_fleet(page, stack):
    """Through fleet up's own admission (Host, Origin) and the console's token: the editor starts a
    registration, the list shows it live, and the fleet view has the car."""
    page.goto(f"{stack.api_url}/console")
    until(page, 'document.body.dataset.live === "on"')
    page.click("#start-open")
    page.select_option("#start-machine", label="fleet-register-car")
    page.fill("#start-name", "console-in-fleet-up")
    page.fill("#start-input", '{"vin": "WVWZZZ1JZXW000777", "model": "Robotaxi S", "year": 2024, "seats": 4}')
    page.click("#start-go")
    until(page, '/started arn:aws:states:/.test(document.getElementById("console-message").innerText)')
    until(page, '[...document.querySelectorAll("#executions tr.execution")].some(tr => '
                'tr.cells[0].innerText === "console-in-fleet-up" && tr.cells[3].innerText === "CarRegistered")', timeout_s=60)
    page.goto(f"{stack.api_url}/console/fleet")
    until(page, 'document.body.dataset.loaded === "fleet"')
    assert "car-WVWZZZ1JZXW000777" in page.inner_text("#fleet")
    shot(page, "console-fleet-up")
    errors = [e for e in page.errors if not e.startswith("Failed to load resource")]
    assert errors == []
