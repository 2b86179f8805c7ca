"""The listening report in a real browser (headless Chromium), checked against the synthetic truth.

The report is what `spotify-assets demo` wrote; the truth is the generator's, recomputed here in plain
Python (the Oracle), never read back from the marts.
"""

import unicodedata
from collections import Counter
from datetime import date, timezone
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from conftest import DEMO_PLAYS, DEMO_SEED, DEMO_ZONE, wait_for
from selenium.webdriver.common.by import By

from spotify_assets.lib.reports.snapshot import weekday_hour_png
from spotify_assets.lib.simulated.spotify import simulated_catalog
from spotify_assets.lib.synthetic.exports import SyntheticHistory
from spotify_assets.lib.synthetic.oracle import Oracle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> SyntheticHistory:
    history = SyntheticHistory.generate(plays=DEMO_PLAYS, seed=DEMO_SEED)
    history.write_exports(tmp_path_factory.mktemp("exports"))  # decides which plays reach an export
    return history


@pytest.fixture(scope="module")
def oracle(history) -> Oracle:
    return Oracle(history, DEMO_ZONE, catalog_known=True)


@pytest.fixture(scope="module")
def report(demo_data_dir: Path, browser):
    path = demo_data_dir / "reports" / "listening_report.html"
    browser.get_log("browser")  # reading the log empties it: what earlier tests' pages logged is not ours
    browser.get(path.as_uri())
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#top-artists li"), message="the top lists render")
    return browser


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def top_list(driver, list_id: str) -> list[tuple[str, int]]:
    entries = []
    for item in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} li"):
        name = item.find_element(By.CSS_SELECTOR, ".name").get_attribute("textContent")
        streams = int(item.find_element(By.CSS_SELECTOR, ".streams").text.replace(",", ""))
        entries.append((nfc(name), streams))
    return entries


def choose_range(driver, start: date | str, end: date | str) -> None:
    # Typing into a date input depends on the browser's locale; set the value and fire the change event.
    driver.execute_script("""
        for (const [id, value] of [["range-start", arguments[0]], ["range-end", arguments[1]]]) {
            const input = document.getElementById(id);
            input.value = value;
            input.dispatchEvent(new Event("change"));
        }""", str(start), str(end))


def expected_artists(oracle: Oracle, start: date, end: date) -> list[tuple[str, int]]:
    names = {p.artist_key: p.artist for p in oracle.plays}
    return [(nfc(names[key]), streams) for key, streams in oracle.top("artist_key", start, end)]


def test_the_page_is_self_contained_and_loads_without_errors(report, demo_data_dir):
    page = (demo_data_dir / "reports" / "listening_report.html").read_text()
    assert "http://" not in page and "https://" not in page  # no CDN, no fonts, nothing fetched
    errors = [entry for entry in report.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_every_section_renders_with_hover_values(report, oracle):
    calendar_days = report.find_elements(By.CSS_SELECTOR, "#calendar .day")
    assert len(calendar_days) == len(oracle.calendar())
    # Each year's calendar names its rows: Monday first, as the cells run.
    years = report.find_elements(By.CSS_SELECTOR, "#calendar .year")
    labels = years[0].find_elements(By.CSS_SELECTOR, ".weekday-labels span")
    assert [label.text for label in labels] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    first_monday = years[0].find_elements(By.CSS_SELECTOR, ".weeks .cell")[0]
    assert abs(first_monday.location["y"] - labels[0].location["y"]) <= 2  # the label sits on its row
    cells = report.find_elements(By.CSS_SELECTOR, "#weekday-hour td.cell")
    assert len(cells) == 168
    truth = oracle.weekday_hour()
    # Rows are weekdays Monday first, columns hours: the hover text carries the exact count.
    tips = [cell.get_attribute("data-tip") for cell in cells]
    assert tips[0].startswith("Mon 00:00") and tips[-1].startswith("Sun 23:00")
    counts = [int(tip.rsplit(": ", 1)[1].split()[0].replace(",", "")) for tip in tips]
    assert counts == [truth[(weekday, hour)] for weekday in range(1, 8) for hour in range(24)]
    assert report.find_elements(By.CSS_SELECTOR, "#year-month td.cell")
    assert len(report.find_elements(By.CSS_SELECTOR, "#weekday-hour-legend .cell")) == 6  # zero and five steps


def test_the_range_picker_changes_the_top_lists(report, oracle):
    everything = (date(1900, 1, 1), date(2100, 1, 1))
    all_time = top_list(report, "top-artists")
    assert all_time == expected_artists(oracle, *everything)
    first_year = min(p.local_date for p in oracle.plays).year + 1
    choose_range(report, date(first_year, 3, 1), date(first_year, 5, 31))
    spring = top_list(report, "top-artists")
    assert spring == expected_artists(oracle, date(first_year, 3, 1), date(first_year, 5, 31)) and spring != all_time
    names = {p.track_key: (p.track, p.artist) for p in oracle.plays}
    expected_tracks = [(nfc(names[key][0] + " · " + names[key][1]), streams)
                       for key, streams in oracle.top("track_key", date(first_year, 3, 1), date(first_year, 5, 31))]
    assert top_list(report, "top-tracks") == expected_tracks
    # Each entry has its own weekday x hour heatmap, whose cells add up to the entry's streams.
    first_entry = report.find_element(By.CSS_SELECTOR, "#top-artists li")
    tips = [cell.get_attribute("data-tip") for cell in first_entry.find_elements(By.CSS_SELECTOR, ".mini div")]
    assert len(tips) == 168
    assert sum(int(tip.rsplit(", ", 1)[1].split()[0].replace(",", "")) for tip in tips) == spring[0][1]


def test_a_click_on_an_hour_shows_the_tracks_that_filled_it(report, oracle):
    (local_date, hour), = oracle.sample_hours(count=3)[:1]  # the busiest hour of the history
    report.find_element(By.CSS_SELECTOR, f'#calendar [data-date="{local_date.isoformat()}"]').click()
    wait_for(report, lambda d: d.find_element(By.ID, "day-panel").is_displayed())
    report.find_element(By.CSS_SELECTOR, f'#day-hours [data-hour="{hour}"]').click()
    wait_for(report, lambda d: d.find_element(By.ID, "drilldown").is_displayed())
    rows = report.find_elements(By.CSS_SELECTOR, "#drilldown-rows tr")
    shown = {(nfc(row.find_element(By.CSS_SELECTOR, ".track").text), nfc(row.find_element(By.CSS_SELECTOR, ".artist").text)):
             int(row.find_element(By.CSS_SELECTOR, ".streams").text) for row in rows}
    expected = {(nfc(track), nfc(artist)): streams for (track, artist), streams in oracle.drilldown(local_date, hour).items()}
    assert shown == expected and sum(expected.values()) > 1
    assert report.current_url.endswith(f"#day={local_date.isoformat()}&hour={hour}")


def field(container, name: str) -> str:
    return container.find_element(By.CSS_SELECTOR, f'[data-field="{name}"]').text


def test_the_page_fills_the_window_and_the_range_takes_iso_dates(report, oracle):
    width = report.execute_script("return window.innerWidth")
    assert report.find_element(By.TAG_NAME, "main").size["width"] >= width - 64  # no fixed maximum width
    start, end = (report.find_element(By.ID, name) for name in ("range-start", "range-end"))
    assert start.get_attribute("type") == "text" and start.get_attribute("placeholder") == "YYYY-MM-DD"
    before = top_list(report, "top-artists")
    choose_range(report, "03/01/2024", "2024-05-31")  # the browser's locale has no say: only ISO dates are taken
    assert "YYYY-MM-DD" in report.find_element(By.ID, "range-summary").text and top_list(report, "top-artists") == before
    choose_range(report, "2024-03-01", "2024-05-31")
    assert top_list(report, "top-artists") == expected_artists(oracle, date(2024, 3, 1), date(2024, 5, 31))


def test_an_artist_page_shows_its_calendar_hours_tracks_skips_first_stream_and_longest_streak(report, oracle):
    choose_range(report, "1900-01-01", "2100-01-01")
    second = report.find_elements(By.CSS_SELECTOR, "#top-artists .artist-link")[1]
    name = nfc(second.text)
    second.click()
    wait_for(report, lambda d: d.find_element(By.ID, "artist-panel").is_displayed())
    key = next(p.artist_key for p in oracle.plays if nfc(p.artist) == name)
    panel = report.find_element(By.ID, "artist-panel")
    assert nfc(report.find_element(By.ID, "artist-title").text) == name
    plays = [p for p in oracle.plays if p.artist_key == key]
    streams = [p for p in plays if p.is_stream]
    assert field(panel, "streams") == f"{len(streams):,}"
    first, longest = oracle.artist_streaks()[key]
    assert field(panel, "first-stream") == first.isoformat()
    assert field(panel, "longest-streak") == f"{longest} day{'s' if longest != 1 else ''}"
    known = [p for p in plays if p.is_skip is not None]
    assert field(panel, "skip-rate") == f"{100 * sum(bool(p.is_skip) for p in known) / len(known):.1f}%"
    per_track = Counter(p.track for p in streams)
    expected = sorted(per_track.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert top_list(report, "artist-tracks") == [(nfc(track), count) for track, count in expected]
    days = panel.find_elements(By.CSS_SELECTOR, "#artist-calendar .cell.value")
    by_day = Counter(p.local_date for p in streams)
    shown = {tip.split(" ", 1)[0]: int(tip.rsplit(": ", 1)[1].split()[0])
             for tip in (cell.get_attribute("data-tip") for cell in days)}
    assert {day: count for day, count in shown.items() if count} == {d.isoformat(): n for d, n in by_day.items()}
    cells = [int(cell.get_attribute("data-tip").rsplit(", ", 1)[1].split()[0])
             for cell in panel.find_elements(By.CSS_SELECTOR, "#artist-hours td.cell")]
    by_hour = Counter((p.iso_weekday, p.local_hour) for p in streams)
    assert cells == [by_hour[(w, h)] for w in range(1, 8) for h in range(24)]
    assert nfc(unquote(report.current_url.split("#artist=", 1)[1])) == name


def test_the_skips_section_equals_the_truth(report, oracle):
    known = [p for p in oracle.plays if p.is_skip is not None]
    skips = sum(bool(p.is_skip) for p in known)
    assert report.find_element(By.ID, "skips-summary").text.startswith(
        f"{100 * skips / len(known):.1f}% of {len(known):,} plays whose skip is known were skips ({skips:,}).")
    tips = [cell.get_attribute("data-tip") for cell in report.find_elements(By.CSS_SELECTOR, "#skips-weekday-hour td.cell")]
    shown = [(int(tip.split(" of ")[1].split()[0].replace(",", "")), int(tip.split(": ")[1].split()[0].replace(",", "")))
             for tip in tips]
    truth = oracle.skips_weekday_hour()
    assert shown == [truth[(w, h)] for w in range(1, 8) for h in range(24)]
    rows = [(nfc(row.find_element(By.CSS_SELECTOR, ".track").text), int(row.find_element(By.CSS_SELECTOR, ".plays").text),
             int(row.find_element(By.CSS_SELECTOR, ".skips").text))
            for row in report.find_elements(By.CSS_SELECTOR, "#most-skipped tbody tr")]
    names = {p.track_key: p.track for p in oracle.plays}
    assert rows == [(nfc(names[key]), plays, skipped)
                    for key, plays, skipped, _ in oracle.most_skipped(date(1, 1, 1), date(9999, 12, 31))]


def test_a_day_lists_its_sessions(report, oracle):
    sessions = oracle.session_rows()
    busiest = Counter(row[2] for row in sessions).most_common(1)[0][0]
    report.find_element(By.CSS_SELECTOR, f'#calendar [data-date="{busiest.isoformat()}"]').click()
    wait_for(report, lambda d: d.find_element(By.ID, "day-panel").is_displayed())
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in report.find_elements(By.CSS_SELECTOR, "#day-sessions tbody tr")]
    expected = [row for row in sessions if row[2] == busiest]
    assert len(rows) == len(expected) >= 2
    assert [(int(r[3]), int(r[4]), r[5]) for r in rows] == [(e[3], e[4], f"{e[5]:,.1f}") for e in expected]
    for shown, truth in zip(rows, expected):
        if not isinstance(truth[0], frozenset):
            local = truth[0].replace(tzinfo=timezone.utc).astimezone(ZoneInfo(DEMO_ZONE))
            assert shown[1] == local.strftime("%H:%M")


def test_the_year_page_shows_any_year(report, oracle):
    years = oracle.year_in_review(oracle.session_rows())
    for year in sorted(years)[:2]:
        report.execute_script("const c = document.getElementById('year-choice'); c.value = arguments[0]; "
                              "c.dispatchEvent(new Event('change'));", str(year))
        facts = report.find_element(By.ID, "year-facts")
        (_, minutes, streams, days, top_artists, top_tracks, new_artists, _, streak, busiest_date, busiest_hour,
         skip_rate, known, _) = years[year]
        assert field(facts, "streams") == f"{streams:,}" and field(facts, "days-listened") == f"{days:,}"
        assert field(facts, "minutes") == f"{round(minutes):,}"
        assert field(facts, "new-artists") == f"{new_artists:,}"
        assert field(facts, "longest-streak") == f"{streak} day{'s' if streak != 1 else ''}"
        assert field(facts, "busiest-date") == busiest_date.isoformat()
        assert field(facts, "busiest-hour") == f"{busiest_hour:02d}:00"
        assert field(facts, "skip-rate") == f"{100 * skip_rate:.1f}%"
        assert [name for name, _ in top_list_names(report, "year-artists")] == [nfc(n) for n in top_artists]
        assert [name for name, _ in top_list_names(report, "year-tracks")] == [nfc(n) for n in top_tracks]
        assert report.current_url.endswith(f"#year={year}")


def test_spotifys_view_beside_yours_and_the_playlists_equal_the_truth(report, oracle, history):
    spotify = simulated_catalog(history)  # what the demo's simulated Spotify answered
    summary = report.find_element(By.ID, "spotify-view-summary").text
    day = date.fromisoformat(summary.split("pulled on ")[1][:10])
    expected = oracle.spotify_compared(spotify.top_items, day)
    names = {("artist", rank): item["name"] for (kind, time_range), items in spotify.top_items.items()
             if kind == "artists" and time_range == "long_term" for rank, item in enumerate(items, start=1)}
    for label, time_range in (("all time", "long_term"), ("4 weeks", "short_term")):
        next(b for b in report.find_elements(By.CSS_SELECTOR, ".range-choice") if b.text == label).click()
        rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in report.find_elements(By.CSS_SELECTOR, "#spotify-artists tbody tr")]
        assert [(int(r[0][1:]), None if r[2] == "not streamed" else int(r[2][1:])) for r in rows] == \
            expected[(time_range, "artist")]
        if time_range == "long_term":
            assert [nfc(r[1]) for r in rows] == [nfc(names[("artist", rank)]) for rank in range(1, len(rows) + 1)]
            own_first = oracle.top("artist_key", date.min, day, n=1)[0]
            assert nfc(report.find_element(By.ID, "spotify-view-first").text).endswith(
                f"by your streams it is {nfc(oracle._names[own_first[0]][0])} ({own_first[1]:,} streams).")
    playlists = {row.find_element(By.TAG_NAME, "button").text: [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                 for row in report.find_elements(By.CSS_SELECTOR, "#playlists tbody tr")}
    for playlist in spotify.playlists:
        shown = playlists[playlist["name"]]
        if not playlist["readable"]:
            assert shown[2] == "unreadable"
            continue
        tracks, streamed, never, recent = oracle.playlist_listening(playlist["entries"], day)
        assert [int(text.replace(",", "")) for text in shown[2:]] == [tracks, streamed, never, recent]
    rarities = next(p for p in spotify.playlists if p["name"] == "Rarities")
    next(b for b in report.find_elements(By.CSS_SELECTOR, "#playlists button") if b.text == "Rarities").click()
    wait_for(report, lambda d: d.find_element(By.ID, "playlist-never").is_displayed())
    listed = [row.find_elements(By.TAG_NAME, "td")[1].text
              for row in report.find_elements(By.CSS_SELECTOR, "#playlist-never-rows tbody tr")]
    assert len(listed) == oracle.playlist_listening(rarities["entries"], day)[2] >= 5
    assert {f"Never Played {n}" for n in range(5)} <= set(listed)


def test_mood_modes_and_recommendations_equal_the_marts_and_the_truth(report, oracle, history, demo_data_dir):
    from spotify_assets.lib.publishing.publish import connect_published
    from spotify_assets.lib.synthetic.catalog_file import catalog_rows

    features = oracle.catalog_features(catalog_rows(history))
    featured = [p for p in oracle.streams if p.track_key in features]
    moods = Counter(oracle.mood(features[p.track_key]) for p in featured)
    summary = report.find_element(By.ID, "mood-summary").text
    assert summary.startswith(f"{100 * len(featured) / len(oracle.streams):.1f}% of your streams ({len(featured):,} of "
                              f"{len(oracle.streams):,}) have audio features: ")
    assert f"sad-low {100 * moods['sad-low'] / len(featured):.1f}%" in summary
    with connect_published(demo_data_dir / "marts.duckdb") as marts:
        modes = marts.execute("SELECT mode_id, round(centre_valence, 2), tracks, streams FROM mart_listening_modes "
                              "ORDER BY mode_id").fetchall()
        second = marts.execute("SELECT track_name FROM recommendations(policy := 'coach', mode_id := 2, n := 5)"
                               ).fetchall()
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in report.find_elements(By.CSS_SELECTOR, "#modes tbody tr")]
    assert [(int(r[0]), float(r[1]), int(r[5].replace(",", "")), int(r[6].replace(",", ""))) for r in rows] == modes
    assert report.find_element(By.ID, "modes-picture").get_attribute("src").startswith("data:image/png;base64,")
    next(b for b in report.find_elements(By.CSS_SELECTOR, "#recommendation-choices button")
         if b.text == "mode 2, coach").click()
    shown = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
             for row in report.find_elements(By.CSS_SELECTOR, "#recommendations tbody tr")]
    assert [nfc(r[0]) for r in shown] == [nfc(name) for (name,) in second]
    assert all(abs(sum(float(x) for x in r[3:7]) - float(r[2])) <= 0.002 for r in shown)  # the reasons make the score


def top_list_names(driver, list_id: str) -> list[tuple[str, str]]:
    return [(nfc(item.find_element(By.CSS_SELECTOR, ".name").get_attribute("textContent")), "")
            for item in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} li")]


def test_the_snapshot_is_a_png_of_the_heatmap_with_axes_and_a_legend(demo_data_dir, oracle):
    """Each cell has the colour of the oracle's count, each legend box the colour of its step and a label; the axes and
    the title are drawn (text pixels where the labels go). Before, the picture had neither axes nor legend text."""
    import io

    from PIL import Image

    from spotify_assets.lib.reports.colours import EMPTY_COLOUR, STEP_COLOURS, colour_of
    from spotify_assets.lib.reports.snapshot import (
        CELL,
        LEFT,
        TOP,
        cell_origin,
        legend_origin,
    )

    snapshot = (demo_data_dir / "reports" / "weekday_hour.png").read_bytes()
    truth = oracle.weekday_hour()
    grid = [[truth[(w, h)] for h in range(24)] for w in range(1, 8)]
    assert snapshot == weekday_hour_png(grid, DEMO_ZONE)
    picture = Image.open(io.BytesIO(snapshot)).convert("RGB")
    maximum = max(max(row) for row in grid)

    def hex_at(x: int, y: int) -> str:
        return "#%02x%02x%02x" % picture.getpixel((x, y))

    for weekday in range(7):
        for hour in range(24):
            x, y = cell_origin(weekday, hour)
            assert hex_at(x + CELL // 2, y + CELL // 2) == colour_of(grid[weekday][hour], maximum), (weekday, hour)
    for step, colour in enumerate([EMPTY_COLOUR, *STEP_COLOURS]):
        x, y = legend_origin(step)
        assert hex_at(x + CELL // 2, y + CELL // 2) == colour
        assert any(sum(picture.getpixel((x + CELL + 4 + dx, y + CELL // 2))) < 300 for dx in range(30))  # its label

    def has_text(box) -> bool:
        return any(sum(picture.getpixel((x, y))) < 300 for x in range(box[0], box[2]) for y in range(box[1], box[3]))

    assert has_text((2, TOP, LEFT - 4, TOP + CELL))  # "Mon"
    assert has_text((LEFT, TOP - 16, LEFT + 20, TOP - 2))  # the hour axis: "00"
    assert has_text((LEFT, 2, LEFT + 200, 20))  # the title


def test_an_empty_history_renders_without_errors(browser, tmp_path):
    from spotify_assets.lib.reports.render import render_report

    empty = {"generated_at": "2026-01-01 00:00 UTC", "timezone": "UTC", "first_date": None, "daily_streams": [],
             "weekday_hour": [[0] * 24 for _ in range(7)], "year_month": [], "artists": [], "tracks": [], "hours": "[]",
             "totals": {"plays": 0, "streams": 0, "hours_played": 0}, "artist_stats": [],
             "skips": {"weekday_hour": [0] * 336, "by": [], "most_skipped": []}, "sessions": [], "years": [],
             "discovery": [], "streaks": {"longest": None, "current": None}, "spotify_view": None,
             "mood": {"cells": [[None] * 24 for _ in range(7)], "months": [], "modes": [], "recommendations": {},
                      "picture": None}}
    page = tmp_path / "empty.html"
    page.write_text(render_report(empty))
    browser.get_log("browser")
    browser.get(page.as_uri())
    wait_for(browser, lambda d: "No plays yet" in d.find_element(By.ID, "subtitle").text)
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
