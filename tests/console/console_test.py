#!/usr/bin/env python3
"""Drives the dts web console in headless Chromium (ChromeDriver, Debian's python3-selenium).

Run by tests/console_test.cc, which starts the cluster and the server and passes one JSON argument
{url, endpoint, node3, destination, screenshots}; the API token and the cluster password come
from $DTS_CONSOLE_TOKEN and $DTS_CONSOLE_PASSWORD. Exits non-zero (with the step that failed) on
any failure. Screenshots: SCREENSHOTS/NN-page-{wide,narrow}.png.
"""
import json
import os
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

P = json.loads(sys.argv[1])
TOKEN = os.environ["DTS_CONSOLE_TOKEN"]
PASSWORD = os.environ["DTS_CONSOLE_PASSWORD"]
URL = P["url"]
SHOTS = P["screenshots"]
WIDE = (1280, 800)
NARROW = (400, 800)
TASK = "console-sync"

shot_no = [0]
step_name = ["start"]


def step(name):
    step_name[0] = name
    print("step:", name, flush=True)


def api(path):
    req = urllib.request.Request(URL + path, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def make_driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=%d,%d" % WIDE, "--lang=en-US", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


d = make_driver()
d.set_script_timeout(30)


def wait(cond, timeout=30, what="condition"):
    try:
        # The pages re-render on every status poll: an element found a moment ago may be replaced.
        return WebDriverWait(d, timeout, poll_frequency=0.2,
                             ignored_exceptions=(StaleElementReferenceException,)).until(cond)
    except Exception:
        raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def find(css, timeout=30):
    return wait(EC.presence_of_element_located((By.CSS_SELECTOR, css)), timeout, css)


def visible(css, timeout=30):
    return wait(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout, css)


def text_in(css, text, timeout=30):
    return wait(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text), timeout,
                "%r in %s" % (text, css))


def _click(locator, timeout, what):
    # Found clickable, then replaced by a re-render before the click lands: find it again.
    deadline = time.time() + timeout
    while True:
        e = wait(EC.element_to_be_clickable(locator), max(1, deadline - time.time()), what)
        try:
            e.click()
            return e
        except StaleElementReferenceException:
            if time.time() > deadline:
                raise AssertionError("timed out after %ss clicking %s" % (timeout, what))


def click(css, timeout=30):
    return _click((By.CSS_SELECTOR, css), timeout, css)


def click_text(text, tag="button", timeout=30):
    xp = "//%s[normalize-space(.)=%s]" % (tag, json.dumps(text))
    return _click((By.XPATH, xp), timeout, "%s %r" % (tag, text))


def typed(css, value):
    e = visible(css)
    e.clear()
    e.send_keys(value)
    return e


def no_secrets():
    """The page holds no secret but the token: not in the DOM, not in any storage."""
    html = d.page_source
    assert PASSWORD not in html, "the password is in the page's HTML"
    assert TOKEN not in html, "the token is in the page's HTML"
    local = d.execute_script("return window.localStorage.length")
    assert local == 0, "localStorage is not empty"
    keys = d.execute_script("return Object.keys(window.sessionStorage)")
    # dts-login-reason: why the login page shows (a sentence, never a secret).
    assert set(keys) <= {"dts-token", "dts-login-reason"}, "sessionStorage holds %s" % keys


def screenshot(name, narrow=True):
    """NN-name-wide.png at 1280x800 and NN-name-narrow.png at 400x800 (full page height)."""
    shot_no[0] += 1
    base = os.path.join(SHOTS, "%02d-%s" % (shot_no[0], name))
    for label, (w, h) in (("wide", WIDE), ("narrow", NARROW)) if narrow else (("wide", WIDE),):
        d.set_window_size(w, h)
        time.sleep(0.6)  # layout, and the charts redraw on resize
        full = d.execute_script("return Math.max(document.body.scrollHeight, %d)" % h)
        d.set_window_size(w, min(full + 140, 4000))
        time.sleep(0.4)
        d.save_screenshot(base + "-" + label + ".png")
        # The page never scrolls sideways.
        overflow = d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, "%s at %dpx: the page scrolls sideways by %dpx" % (name, w, overflow)
    d.set_window_size(*WIDE)
    time.sleep(0.3)
    no_secrets()


def heading():
    return d.find_element(By.CSS_SELECTOR, "form.wizard h2").text


try:
    step("login page; a wrong token is refused where it was typed")
    d.get(URL + "/")
    visible("#token")
    assert d.execute_script("return location.hash") == "#/login"
    screenshot("login")
    typed("#token", "not-the-token").send_keys(Keys.ENTER)
    text_in("form.login [role=alert]", "refused")
    screenshot("login-refused", narrow=False)
    typed("#token", TOKEN).send_keys(Keys.ENTER)
    text_in(".empty h2", "No tasks yet")
    screenshot("tasks-empty")

    step("instances: empty, register the cluster, discover its nodes, roles read live")
    d.get(URL + "/#/instances")
    text_in(".empty h2", "No instances yet")
    screenshot("instances-empty")
    click("#register")
    typed("#register-form input[name=name]", "local")
    typed("#register-form input[name=endpoint]", P["endpoint"])
    typed("#register-form input[name=user]", "dts")
    typed("#register-form input[name=password]", PASSWORD).send_keys(Keys.ENTER)
    text_in("#inst-local", "local")
    click_text("Discover nodes")
    text_in(".instance table.nodes", "node-3", 30)
    # Roles come from the servers: node-1 is the primary, node-2 and node-3 secondaries.
    wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, ".badge.role-secondary")) == 2, 30,
         "two live secondary roles")
    wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, ".badge.role-primary")) == 1, 30,
         "one live primary role")
    text_in(".instance table.nodes", "running")
    screenshot("instances")

    step("wizard step 1: source = instance local, secondary node-2; test connection")
    d.get(URL + "/#/new")
    text_in("form.wizard h2", "Step 1 of 5")
    name = typed("input[name=task-name]", TASK)
    wait(lambda _: Select(find("#src-instance")).first_selected_option.get_attribute("value") == "local",
         10, "instance local preselected")
    Select(find("#src-node")).select_by_value("node-2")
    assert "keeping load off the primary" in find("#node-note").text
    click("#test-source")
    text_in(".test-result", "Connection OK")
    text_in(".test-result", "replicates from the primary")
    screenshot("wizard-source")
    name.send_keys(Keys.ENTER)  # Enter: next step

    step("wizard step 2: a registered secondary is refused as destination")
    text_in("form.wizard h2", "Step 2 of 5")
    assert d.switch_to.active_element.tag_name == "h2", "focus moves to the step's heading"
    typed("input[name=dst-endpoint]", P["node3"])
    typed("input[name=dst-user]", "dts")
    typed("input[name=dst-password]", PASSWORD)
    click("#test-destination")
    text_in(".test-result", "Refused")
    text_in(".test-result", "secondary node cannot be the destination")
    d.find_element(By.CSS_SELECTOR, "input[name=dst-password]").send_keys(Keys.ENTER)
    text_in(".step-status [role=alert]", "refused")
    screenshot("wizard-destination-refused")
    # Escape goes back a step, Enter forward again.
    d.find_element(By.CSS_SELECTOR, "input[name=dst-endpoint]").send_keys(Keys.ESCAPE)
    text_in("form.wizard h2", "Step 1 of 5")
    assert find("input[name=task-name]").get_attribute("value") == TASK, "values are kept"
    find("input[name=task-name]").send_keys(Keys.ENTER)
    text_in("form.wizard h2", "Step 2 of 5")
    typed("input[name=dst-endpoint]", P["destination"])
    click("#test-destination")
    text_in(".test-result", "Connection OK")
    text_in(".test-result", "destination writable")
    screenshot("wizard-destination")
    d.find_element(By.CSS_SELECTOR, "input[name=dst-endpoint]").send_keys(Keys.ENTER)

    step("wizard step 3: objects browsed from the source")
    text_in("form.wizard h2", "Step 3 of 5")
    find("#db-shop")
    # Nothing picked: refused where it happens.
    click_text("Next")
    text_in(".step-status [role=alert]", "pick at least one database")
    click("#db-shop")
    typed("input[name=db-rename-shop]", "shop_copy")
    click("#open-shop")
    text_in("#tables-shop", "orders")
    text_in("#tables-shop", "customers")
    # Open the orders table's details: its columns are listed.
    d.find_element(By.XPATH, "//div[@id='tables-shop']//div[contains(@class,'table-pick')][.//code[text()='orders']]//summary").click()
    text_in("#tables-shop", "total")
    screenshot("wizard-objects")
    click_text("Next")

    step("wizard step 4: options; out of range refused")
    text_in("form.wizard h2", "Step 4 of 5")
    retry = find("input[name=retry_time_for_failed_connections]")
    assert retry.get_attribute("value") == "720"
    retry.clear()
    retry.send_keys("5", Keys.ENTER)
    text_in(".step-status [role=alert]", "10–1440")
    assert d.switch_to.active_element.get_attribute("name") == "retry_time_for_failed_connections"
    screenshot("wizard-options-error", narrow=False)
    retry = find("input[name=retry_time_for_failed_connections]")
    retry.clear()
    retry.send_keys("720")
    typed("input[name=parallelism]", "2")
    screenshot("wizard-options")
    find("input[name=parallelism]").send_keys(Keys.ENTER)

    step("wizard step 5: precheck items with results")
    text_in("form.wizard h2", "Step 5 of 5")
    text_in("#precheck-verdict", "Precheck passed", 90)
    checks = d.find_elements(By.CSS_SELECTOR, "ul.checks li")
    assert len(checks) >= 3, "precheck lists its items (%d)" % len(checks)
    screenshot("wizard-precheck")
    click_text("Start task")

    step("task page: reaches incremental, charts move under load")
    wait(lambda _: d.execute_script("return location.hash") == "#/tasks/" + TASK, 30, "task page")
    wait(lambda _: api("/api/v1/tasks/" + TASK)["phase"] == "incremental", 120, "phase incremental")
    text_in(".pipeline .p-current", "Incremental", 30)

    def chart_points(box):
        return d.execute_script(
            "const p = document.querySelector('#%s path.series');"
            "return p ? (p.getAttribute('d').match(/[ML]/g) || []).length : 0" % box)

    def rps_moving(_):
        seen = d.execute_script(
            "return Array.from(document.querySelectorAll('#stat-rps .stat-value')).map(e => e.textContent)")
        return chart_points("chart-rps") >= 8 and chart_points("chart-lag") >= 8 and seen and seen[0] not in ("0", "—")
    wait(rps_moving, 60, "rows/s and lag charts with 8+ samples and rows/s above 0")
    label = find("#chart-rps svg").get_attribute("aria-label")
    assert "latest" in label, label
    text_in("#tables-h", "Tables")
    screenshot("task-incremental")

    step("pause and resume from the task page")
    click("button[data-action=pause]")
    text_in("h1 .badge", "paused", 60)
    text_in("ol.events", "pause", 20)
    screenshot("task-paused")
    click("button[data-action=resume]")
    text_in("h1 .badge", "running", 60)
    wait(lambda _: api("/api/v1/tasks/" + TASK)["phase"] == "incremental", 60, "incremental again")

    step("tasks list")
    d.get(URL + "/#/tasks")
    text_in("table.tasks", TASK)
    text_in("table.tasks", "incremental", 30)
    screenshot("tasks")

    step("a bad task name: a 404 page, not a blank one")
    d.get(URL + "/#/tasks/no-such-task")
    text_in(".empty h2", "No task named no-such-task")
    screenshot("task-missing", narrow=False)

    step("log out: the token is gone and the API is not reachable from the page")
    d.get(URL + "/#/tasks")
    click("#logout")
    visible("#token")
    assert d.execute_script("return sessionStorage.getItem('dts-token')") is None
    print("console test passed; screenshots in", SHOTS)
except Exception as e:
    print("FAILED at step '%s': %s" % (step_name[0], e), flush=True)
    traceback.print_exc()
    try:
        d.save_screenshot(os.path.join(SHOTS, "failure.png"))
        print("page at failure: %s" % d.find_element(By.TAG_NAME, "main").text[:3000])
        for entry in d.get_log("browser"):
            print("browser:", entry)
    except Exception:
        pass
    d.quit()
    sys.exit(1)
d.quit()
