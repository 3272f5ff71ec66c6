"""The console in a real browser: headless Chromium (Debian's chromium and chromium-driver),
driven by Selenium. Run by tests/tests/e2e/console.rs with the app's base URL, a directory for
screenshots, and what it seeded (JSON). Exits non-zero, saying why, at the first thing that is
not as a user would expect; the browser's console must stay free of errors."""

import json
import shutil
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

BASE, SHOTS, SEEDED = sys.argv[1].rstrip("/"), sys.argv[2], json.loads(sys.argv[3])
CAMPAIGN = SEEDED["campaign"]
ANN = SEEDED["user_with_voicemail"]

# Responses the scenario provokes on purpose, which Chromium logs as failed loads: the 412 of
# deleting a user with a voicemail, the 400 of a campaign without a name.
EXPECTED = ["status of 412", "status of 400"]


def browser():
    options = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--autoplay-policy=no-user-gesture-required"]:
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def main():
    d = browser()
    # The console re-renders a screen once its data is in: an element seen a moment ago may be
    # gone; look again.
    wait = WebDriverWait(d, 15, ignored_exceptions=(StaleElementReferenceException,))
    errors = []

    def check_console():
        for entry in d.get_log("browser"):
            if entry["level"] == "SEVERE" and not any(e in entry["message"] for e in EXPECTED):
                errors.append(entry["message"])
        if errors:
            raise AssertionError(f"errors in the browser's console: {errors}")

    def alert_text():
        box = wait.until(ec.visibility_of_element_located((By.ID, "alert")))
        return box.text

    def rows():
        return d.find_elements(By.CSS_SELECTOR, "main tbody tr")

    def one_row_with(text):
        found = rows()
        return len(found) == 1 and text in found[0].text

    def shot(name):
        d.save_screenshot(f"{SHOTS}/{name}.png")

    try:
        # Users: a page of 20 of 30, then the next; search as you type.
        d.get(f"{BASE}/")
        wait.until(lambda _: len(rows()) == 20)
        assert "30 users" in d.find_element(By.CLASS_NAME, "count").text
        shot("users")
        d.find_element(By.XPATH, "//button[text()='Next']").click()
        wait.until(lambda _: len(rows()) == 10)
        search = d.find_element(By.ID, "search")
        search.send_keys("ann mar")
        wait.until(lambda _: one_row_with("Martin"))
        step("users: paging and search as you type")

        # Create a user through the form, find it in the list, edit it.
        d.get(f"{BASE}/#/users/new")
        wait.until(ec.element_to_be_clickable((By.ID, "field-firstname"))).send_keys("Zoé")
        d.find_element(By.ID, "field-lastname").send_keys("Testeur")
        d.find_element(By.ID, "field-line").send_keys("44500")
        d.find_element(By.XPATH, "//button[text()='Create']").click()
        assert "Created user" in alert_text(), alert_text()
        created = int(alert_text().split()[-1].rstrip("."))
        shot("user")
        d.get(f"{BASE}/#/users?q=testeur")
        wait.until(lambda _: one_row_with("Zoé"))
        rows()[0].find_element(By.TAG_NAME, "a").click()
        last = wait.until(ec.element_to_be_clickable((By.ID, "field-lastname")))
        wait.until(lambda _: last.get_attribute("value") == "Testeur")
        last.send_keys("-Edited")
        last.send_keys(Keys.ENTER)  # the keyboard submits the form
        wait.until(lambda _: f"Saved user {created}" in alert_text())
        step("users: create, find, edit")

        # Delete a user with a voicemail: the API's 412, then "delete with its voicemail".
        d.get(f"{BASE}/#/users/{ANN}")
        wait.until(lambda _: d.find_element(By.TAG_NAME, "h1").text == f"User {ANN}")
        wait.until(ec.element_to_be_clickable((By.XPATH, "//button[text()='Delete']"))).click()
        d.switch_to.alert.accept()
        wait.until(lambda _: "Cannot remove a user with a voicemail" in alert_text())
        d.find_element(By.ID, "delete-with-voicemail").click()
        wait.until(lambda _: f"Deleted user {ANN}" in alert_text())
        step("users: 412 shown, deleted with the voicemail")

        # Voicemails, agents, queues: their lists.
        for key, expect in [("voicemails", "0 voicemails"), ("agents", "1 agent"), ("queues", "1 queue")]:
            d.get(f"{BASE}/#/{key}")
            wait.until(lambda _: expect in d.find_element(By.CLASS_NAME, "count").text)
        d.get(f"{BASE}/#/queues/new")
        wait.until(ec.element_to_be_clickable((By.ID, "field-name"))).send_keys("sales")
        d.find_element(By.ID, "field-number").send_keys("3001")
        d.find_element(By.ID, "field-data_quality").click()
        d.find_element(By.XPATH, "//button[text()='Create']").click()
        wait.until(lambda _: "Created queue" in alert_text())
        queue = int(alert_text().split()[-1].rstrip("."))
        wait.until(lambda _: d.find_element(By.TAG_NAME, "h1").text == f"Queue {queue}")
        assert d.find_element(By.ID, "field-data_quality").is_selected()
        d.find_element(By.ID, "field-displayname").send_keys("Sales")
        d.find_element(By.ID, "field-write_caller").click()
        d.find_element(By.XPATH, "//button[text()='Save']").click()
        wait.until(lambda _: f"Saved queue {queue}." in alert_text())
        wait.until(ec.element_to_be_clickable((By.XPATH, "//button[text()='Delete']"))).click()
        d.switch_to.alert.accept()
        wait.until(lambda _: f"Deleted queue {queue}." in alert_text())
        wait.until(lambda _: "1 queue" in d.find_element(By.CLASS_NAME, "count").text)
        step("voicemails, agents, queues: lists; a queue created and deleted")

        # Campaigns: the running one marked; filters; a validation message by its field.
        d.get(f"{BASE}/#/campaigns")
        wait.until(lambda _: one_row_with("running"))
        d.find_element(By.ID, "filter-running").click()
        wait.until(lambda _: "running=true" in d.current_url and len(rows()) == 1)
        shot("campaigns")
        d.get(f"{BASE}/#/campaigns/new")
        wait.until(ec.element_to_be_clickable((By.ID, "field-base_filename"))).send_keys("x")
        d.find_element(By.ID, "field-start_date").send_keys("2013-02-02")
        d.find_element(By.ID, "field-end_date").send_keys("2013-02-01")
        d.find_element(By.XPATH, "//button[text()='Create']").click()
        name_message = d.find_element(By.ID, "field-campaign_name-message")
        wait.until(lambda _: name_message.text == "The campaign needs a name.")
        end_message = d.find_element(By.ID, "field-end_date-message")
        assert end_message.text == "The end must not come before the start.", end_message.text
        shot("campaign-errors")
        step("campaigns: running marked, filter, validation messages by their fields")

        # Recordings: search by caller, play the audio (it reaches canplay), download link.
        d.get(f"{BASE}/#/campaigns/{CAMPAIGN}/recordings")
        key = wait.until(ec.element_to_be_clickable((By.ID, "recording-key")))
        key.send_keys("0231000001")
        key.send_keys(Keys.ENTER)
        wait.until(lambda _: "key=0231000001" in d.current_url and len(rows()) == 1)
        d.get(f"{BASE}/#/campaigns/{CAMPAIGN}/recordings?key=nobody")
        wait.until(lambda _: "No recording matches" in d.find_element(By.TAG_NAME, "main").text)
        d.get(f"{BASE}/#/campaigns/{CAMPAIGN}/recordings?key=0231000001")
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button.play"))).click()
        wait.until(lambda _: d.execute_script(
            "const a = document.getElementById('audio'); return a && a.readyState >= 3"))
        duration = d.execute_script("return document.getElementById('audio').duration")
        assert 2.5 < duration < 3.5, duration
        # Seeking: the browser asks for a range, and can play from there.
        d.execute_script("document.getElementById('audio').currentTime = 2")
        wait.until(lambda _: d.execute_script(
            "const a = document.getElementById('audio'); return !a.seeking && a.readyState >= 2"))
        link = d.find_element(By.LINK_TEXT, "Download")
        assert link.get_attribute("href").endswith(f"/1.0/recording_campaigns/{CAMPAIGN}/call-1/audio")
        shot("recordings")
        d.find_element(By.XPATH, "//tbody//button[text()='Delete']").click()
        d.switch_to.alert.accept()
        wait.until(lambda _: "Deleted recording call-1." in alert_text())
        wait.until(lambda _: "No recording matches" in d.find_element(By.TAG_NAME, "main").text)
        step("recordings: search, play with seeking, download link, delete")

        # Order by clicking a column heading (the API orders), again for the other way.
        d.get(f"{BASE}/#/users")
        wait.until(lambda _: len(rows()) == 20)

        def first_cell(column):
            return rows()[0].find_elements(By.TAG_NAME, "td")[column].text

        def sorted_as(direction):
            heading = d.find_element(By.ID, "sort-firstname").find_element(By.XPATH, "..")
            return heading.get_attribute("aria-sort") == direction

        # The list is drawn again once the API answers: wait for that, then read it.
        d.find_element(By.ID, "sort-firstname").click()
        wait.until(lambda _: sorted_as("ascending") and first_cell(1) == "User00")
        d.find_element(By.ID, "sort-firstname").click()
        wait.until(lambda _: sorted_as("descending") and first_cell(1) == "Zoé")
        step("users: ordered by a column heading")

        # Import users from a CSV file, all or none; export them.
        good = f"{SHOTS}/import.csv"
        with open(good, "w", encoding="utf-8") as f:
            f.write("firstname,lastname,line_number\nImporté,Premier,46001\nImporté,Second,\n")
        bad = f"{SHOTS}/import-bad.csv"
        with open(bad, "w", encoding="utf-8") as f:
            f.write("firstname,enableclient\nX,maybe\n")
        d.get(f"{BASE}/#/users")
        wait.until(lambda _: len(rows()) == 20)
        d.find_element(By.ID, "import-file").send_keys(bad)
        wait.until(lambda _: "row 2: Incorrect parameters sent: enableclient" in alert_text())
        d.find_element(By.ID, "import-file").send_keys(good)
        wait.until(lambda _: "Imported 2 users." in alert_text())
        search = d.find_element(By.ID, "search")
        search.send_keys("importe")
        wait.until(lambda _: len(rows()) == 2)
        href = d.find_element(By.ID, "export").get_attribute("href")
        assert href == f"{BASE}/1.0/users/export", href
        exported = d.execute_async_script(
            "const done = arguments[0];"
            "fetch('/1.0/users/export', {headers: {Accept: 'text/csv'}}).then((r) => r.text()).then(done);")
        assert "Importé,Premier" in exported and ",46001," in exported, exported[:300]
        step("users: import and export as CSV")

        # A phone-sized window: nothing wider than the screen but the tables' own scroll.
        d.set_window_size(390, 844)
        d.get(f"{BASE}/#/users")
        wait.until(lambda _: len(rows()) > 0)
        overflow = d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a phone"
        shot("users-phone")
        step("a phone-sized window")

        # The keyboard reaches the sections: the first Tab is the skip link, then the links.
        d.set_window_size(1280, 800)
        d.get(f"{BASE}/#/users")
        d.refresh()
        wait.until(lambda _: len(rows()) > 0)
        d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert d.switch_to.active_element.text == "Skip to content", d.switch_to.active_element.text
        d.switch_to.active_element.send_keys(Keys.TAB)
        assert d.switch_to.active_element.text == "XiVO console", d.switch_to.active_element.text
        # The skip link takes the keyboard to the screen, and the screen stays.
        d.refresh()
        wait.until(lambda _: len(rows()) > 0)
        d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        d.switch_to.active_element.send_keys(Keys.ENTER)
        assert d.switch_to.active_element.get_attribute("id") == "main"
        assert d.current_url.endswith("#/users"), d.current_url
        d.switch_to.active_element.send_keys(Keys.TAB)
        assert d.switch_to.active_element.get_attribute("id") == "search"
        step("the keyboard")

        check_console()
        step("no error in the browser's console")
    except Exception:
        shot("failure")
        print(f"page: {d.current_url}\n{d.find_element(By.TAG_NAME, 'body').text}")
        raise
    finally:
        d.quit()


def step(what):
    print(f"ok: {what} ({time.strftime('%H:%M:%S')})", flush=True)


if __name__ == "__main__":
    main()
