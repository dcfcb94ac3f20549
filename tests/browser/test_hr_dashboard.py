"""HR in a real browser: the dashboard with its charts and filters, one CSV export, and no serious accessibility problem."""

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from app.models import Role

from .conftest import sign_in
from .test_accessibility import assert_no_serious_violations


def test_hr_filters_the_dashboard_and_downloads_a_table(page: Page, people, refresh_figures) -> None:
    for number in range(5):  # five per site: the smallest group whose figures may be shown
        people.create(name=f"Lyon learner {number}", site="Lyon")
        people.create(name=f"Nantes learner {number}", site="Nantes")
    hr = people.create(Role.HR, name="Hana HR")
    refresh_figures()
    sign_in(page, hr)
    page.get_by_role("link", name="HR", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("HR dashboard")
    expect(page.get_by_text("Figures as of")).to_be_visible()
    expect(page.get_by_role("img", name="Completion rate per theme")).to_be_visible()
    expect(page.get_by_role("img", name="Trends by month")).to_be_visible()
    page.get_by_label("Site", exact=True).select_option("Lyon")
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_url(re.compile(r"/hr/\?.*site=Lyon"))
    expect(page.get_by_label("Site", exact=True)).to_have_value("Lyon")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download “Learning at a glance” as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "speak-digital-learning.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Figure", "Value"]
    assert rows[1] == ["Learners registered", "5"]


def test_hr_dashboard_has_no_serious_accessibility_problem(page: Page, people, refresh_figures) -> None:
    sign_in(page, people.create(Role.HR, name="Axe HR"))
    refresh_figures()
    page.goto("/hr/")
    assert_no_serious_violations(page)


def test_people_import_page_has_no_serious_accessibility_problem(page: Page, people) -> None:
    sign_in(page, people.create(Role.HR, name="Import HR"))
    page.goto("/hr/people/import")
    assert_no_serious_violations(page)
