#!/usr/bin/env python3
"""Drives the dts web console in headless Chromium (ChromeDriver, Debian's python3-selenium).

Run by tests/console_test.cc, which starts the cluster and the server and passes one JSON argument
{url, endpoint, node3, destination, screenshots, password_env}; the API token and the cluster
password come from $DTS_CONSOLE_TOKEN and $DTS_CONSOLE_PASSWORD, and the server has the password
in its environment as $PASSWORD_ENV (the wizard names that variable instead of typing the
password). Exits non-zero (with the step that failed) on any failure.
Screenshots: SCREENSHOTS/NN-page-{wide,narrow}.png. Every page screenshotted is also audited
with axe-core (WCAG 2.1 A/AA and best practices; tests/console/package.json, `npm ci` there),
injected into the page by the test only: the console itself ships no axe.
"""
import calendar
import json
import os
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
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
VERIFY_TASK = "console-verify"
PW_ENV = P["password_env"]
AXE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_modules", "axe-core",
                   "axe.min.js")
if not os.path.exists(AXE):
    sys.exit("axe-core is missing: run `npm ci` in tests/console (scripts/install-deps.sh does)")
AXE_SOURCE = open(AXE).read()

shot_no = [0]
step_name = ["start"]


def step(name):
    step_name[0] = name
    print("step:", name, flush=True)


def api(path, body=None, method=None):
    """GET, or POST of `body` as JSON (or `method`)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": "Bearer " + TOKEN}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(URL + path, data=data, headers=headers, method=method)
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


def audit(name):
    """axe-core over the page as it is: every WCAG 2.1 A/AA and best-practice violation fails."""
    if not d.execute_script("return !!window.axe"):
        d.execute_script(AXE_SOURCE)
    violations = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values:"
        "  ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        " .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '"
        "   + v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | '))))"
        " .catch(e => done(['axe failed: ' + e.message]));")
    assert not violations, "%s: accessibility violations:\n  %s" % (name, "\n  ".join(violations))
    audited[0] += 1


audited = [0]


def past_error(message, at, recovered_after_s):
    """One error_history entry as the API writes it: first seen at `at` (ISO, UTC), recovered
    that many seconds later (None: not recovered)."""
    at_ms = calendar.timegm(time.strptime(at, "%Y-%m-%dT%H:%M:%SZ")) * 1000
    if recovered_after_s is None:
        return {"message": message, "at": at, "at_ms": at_ms, "recovered_at": None,
                "recovered_at_ms": 0}
    rec_ms = at_ms + recovered_after_s * 1000
    return {"message": message, "at": at, "at_ms": at_ms,
            "recovered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(rec_ms / 1000)),
            "recovered_at_ms": rec_ms}


def screenshot(name, narrow=True):
    """NN-name-wide.png at 1280x800 and NN-name-narrow.png at 400x800 (full page height), each
    size audited for accessibility."""
    shot_no[0] += 1
    base = os.path.join(SHOTS, "%02d-%s" % (shot_no[0], name))
    for label, (w, h) in (("wide", WIDE), ("narrow", NARROW)) if narrow else (("wide", WIDE),):
        d.set_window_size(w, h)
        time.sleep(0.6)  # layout, and the charts redraw on resize
        full = d.execute_script("return Math.max(document.body.scrollHeight, %d)" % h)
        d.set_window_size(w, min(full + 140, 4000))
        time.sleep(0.4)
        d.save_screenshot(base + "-" + label + ".png")
        audit("%s at %dpx" % (name, w))
        # The page never scrolls sideways.
        overflow = d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, "%s at %dpx: the page scrolls sideways by %dpx" % (name, w, overflow)
    d.set_window_size(*WIDE)
    time.sleep(0.3)
    no_secrets()


def heading():
    return d.find_element(By.CSS_SELECTOR, "form.wizard h2").text


# Keyboard only: keys go to whatever has the focus, as a person's would.
def keys(*k):
    ActionChains(d).send_keys(*k).perform()


def focused():
    """What has the focus, named as a test reads it: name, else id, else the text of a button."""
    return d.execute_script(
        "const e = document.activeElement;"
        "if (!e || e === document.body) return 'body';"
        "if (e.tagName === 'BUTTON') return 'button:' + e.textContent.trim();"
        "if (e.type === 'radio') return e.name + '=' + e.value;"
        "if (e.type === 'checkbox' && e.id) return e.id;"
        "return e.getAttribute('name') || e.id || e.tagName.toLowerCase();")


def tab_to(target, limit=40):
    """Presses Tab until `target` has the focus; returns the focus order passed through (target
    included). Fails when it is not reached: something the wizard needs is not reachable by Tab."""
    seen = []
    for _ in range(limit):
        keys(Keys.TAB)
        seen.append(focused())
        if seen[-1] == target:
            return seen
    raise AssertionError("Tab never reached %s; focus went through %s" % (target, seen))


def expect_order(target, order):
    seen = tab_to(target)
    assert seen == order, "focus order %s, expected %s" % (seen, order)


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
    typed("#register-form input[name=inst-password]", PASSWORD).send_keys(Keys.ENTER)
    text_in("#inst-local", "local")
    click_text("Discover nodes")
    text_in(".instance table.nodes", "node-3", 30)
    text_in("#toast", "Added node-1, node-2, node-3")  # in name order
    # Roles come from the servers: node-1 is the primary, node-2 and node-3 secondaries.
    wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, ".badge.role-secondary")) == 2, 30,
         "two live secondary roles")
    wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, ".badge.role-primary")) == 1, 30,
         "one live primary role")
    text_in(".instance table.nodes", "running")
    screenshot("instances")

    step("instances: one registered with its password in the server's environment")
    click("#register")
    typed("#register-form input[name=name]", "envcheck")
    typed("#register-form input[name=endpoint]", P["endpoint"])
    click("#inst-pw-env")
    assert "never sees its value" in visible("#inst-env-note").text
    typed("#register-form input[name=inst-password-env]", PW_ENV).send_keys(Keys.ENTER)
    text_in("#inst-envcheck", "envcheck")
    # The server probed the endpoint with the variable's password.
    text_in("section[aria-labelledby=inst-envcheck] .meta", "reachable, server", 30)
    click_text("Delete", "button[ancestor::section[@aria-labelledby='inst-envcheck']]")
    d.switch_to.alert.accept()
    wait(lambda _: not d.find_elements(By.ID, "inst-envcheck"), 30, "envcheck deleted")

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

    step("wizard step 1: a source endpoint whose password is an environment variable of the server")
    click("#src-mode-endpoint")
    typed("input[name=src-endpoint]", P["endpoint"])
    click("#src-pw-env")
    assert "never sees its value" in visible("#src-env-note").text
    typed("input[name=src-password-env]", PW_ENV)
    click("#test-source")
    text_in("#src-test-result .test-result", "Connection OK")
    screenshot("wizard-source-endpoint-env")
    click("#src-mode-instance")  # the task reads the instance's secondary node after all
    assert Select(find("#src-node")).first_selected_option.get_attribute("value") == "node-2"
    name.send_keys(Keys.ENTER)  # Enter: next step

    step("wizard step 2: a registered secondary is refused as destination")
    text_in("form.wizard h2", "Step 2 of 5")
    assert d.switch_to.active_element.tag_name == "h2", "focus moves to the step's heading"
    typed("input[name=dst-endpoint]", P["node3"])
    typed("input[name=dst-user]", "dts")
    typed("input[name=dst-password]", PASSWORD)
    click("#test-destination")
    text_in(".test-result", "Refused")
    text_in(".test-result", "a node of a registered instance cannot be the destination")
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

    step("wizard step 2: the destination's password from the server's environment")
    click("#dst-pw-env")
    assert "environment of the dts server" in visible("#dst-env-note").text
    assert not find("input[name=dst-password]").is_displayed(), "the typed password is hidden"
    typed("input[name=dst-password-env]", "DTS_CONSOLE_NOT_SET")
    click("#test-destination")
    text_in("#dst-test-result [role=alert]", "DTS_CONSOLE_NOT_SET (password_env) is not set")
    screenshot("wizard-destination-env-unset", narrow=False)
    typed("input[name=dst-password-env]", PW_ENV)
    click("#test-destination")
    text_in("#dst-test-result .test-result", "Connection OK")
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
    # ... and at the field itself, told to a screen reader through aria-invalid/-describedby.
    assert retry.get_attribute("aria-invalid") == "true"
    note = find("#" + retry.get_attribute("id") + "-error")
    assert "10–1440" in note.text and note.get_attribute("id") in retry.get_attribute("aria-describedby")
    screenshot("wizard-options-error", narrow=False)
    retry = find("input[name=retry_time_for_failed_connections]")
    retry.clear()
    retry.send_keys("720")
    typed("input[name=parallelism]", "2")
    click("input[name=verify_schema]")  # verification of the schema beside the sync
    screenshot("wizard-options")
    find("input[name=parallelism]").send_keys(Keys.ENTER)

    step("wizard step 5: precheck items with results")
    text_in("form.wizard h2", "Step 5 of 5")
    text_in("#precheck-verdict", "Precheck passed", 90)
    checks = d.find_elements(By.CSS_SELECTOR, "ul.checks li")
    assert len(checks) >= 3, "precheck lists its items (%d)" % len(checks)
    text_in("dl.summary", "password from $%s on the server" % PW_ENV)
    text_in("dl.summary", "verify schema")
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
    # One unit per axis: every y label of the lag chart ends in the same unit.
    units = d.execute_script(
        "return Array.from(document.querySelectorAll('#chart-lag text.y-label'))"
        ".map(t => t.textContent.replace(/^[0-9.,]+ /, ''))")
    assert len(units) == 3 and len(set(units)) == 1, "lag axis units %s" % units
    # The schema verification the wizard asked for, beside the incremental phase.
    text_in("#verify-state", "equal", 120)
    text_in("#verify", "every table checked is equal")
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
    d.set_window_size(*NARROW)
    empty_labels = d.execute_script(
        "return Array.from(document.querySelectorAll('table.tasks td[data-label]'))"
        ".filter(td => td.offsetParent && !td.textContent.trim()).map(td => td.dataset.label)")
    assert not empty_labels, "narrow task cards show empty cells %s" % empty_labels
    d.set_window_size(*WIDE)

    step("keyboard only (Tab, typing, arrows, Space, Enter): a migration with verification")
    # The destination already holds crm.leads with one row the source lacks (console_test.cc):
    # conflicting tables are ignored, and verification must find that row.
    d.get(URL + "/#/new")
    text_in("form.wizard h2", "Step 1 of 5")
    assert focused() == "h2", "the step's heading has the focus (%s)" % focused()
    expect_order("task-name", ["task-name"])
    keys(VERIFY_TASK)
    expect_order("kind", ["kind"])
    keys("m")  # type-ahead in the select
    assert find("select[name=kind]").get_attribute("value") == "migration"
    wait(lambda _: Select(find("#src-instance")).first_selected_option.get_attribute("value") == "local",
         10, "instance local preselected")
    expect_order("button:Test connection",
                 ["src-mode=instance", "instance", "secondary-node", "button:Test connection"])
    keys(Keys.ENTER)
    text_in("#src-test-result .test-result", "Connection OK")
    expect_order("button:Next", ["button:Next"])
    keys(Keys.ENTER)

    text_in("form.wizard h2", "Step 2 of 5")
    expect_order("dst-endpoint", ["dst-endpoint"])
    keys(P["destination"])
    expect_order("dst-pw-mode=inline", ["dst-user", "dst-pw-mode=inline"])
    keys(Keys.ARROW_RIGHT)  # the radio group: arrows choose
    assert focused() == "dst-pw-mode=env", focused()
    expect_order("dst-password-env", ["dst-password-env"])
    keys(PW_ENV)
    expect_order("button:Test connection", ["button:Test connection"])
    keys(Keys.ENTER)
    text_in("#dst-test-result .test-result", "Connection OK")
    expect_order("button:Next", ["button:Next"])
    keys(Keys.ENTER)

    text_in("form.wizard h2", "Step 3 of 5")
    find("#db-crm")
    expect_order("db-crm", ["db-crm"])
    keys(Keys.SPACE)
    assert find("#db-crm").is_selected()
    expect_order("button:Next", ["db-rename-crm", "button:Tables…", "db-shop", "db-rename-shop",
                                 "button:Tables…", "button:Next"])
    keys(Keys.ENTER)

    text_in("form.wizard h2", "Step 4 of 5")
    order = tab_to("conflicting_tables")
    keys("i")  # ignore: the destination's crm.leads exists
    assert find("select[name=conflicting_tables]").get_attribute("value") == "ignore"
    order += tab_to("incremental")
    keys(Keys.SPACE)  # a migration without incremental changes: it completes
    order += tab_to("verify_full")
    keys(Keys.SPACE)
    order += tab_to("verify_schema")
    keys(Keys.SPACE)
    order += tab_to("button:Next: precheck")
    assert order == ["retry_time_for_failed_connections", "retry_time_for_other_issues",
                     "conflicting_tables", "parallelism", "ddl", "incremental", "full_max_rps",
                     "full_max_mbps", "inc_max_rps", "inc_max_mbps", "verify_full",
                     "verify_schema", "button:Next: precheck"], order
    keys(Keys.ENTER)

    text_in("form.wizard h2", "Step 5 of 5")
    text_in("#precheck-verdict", "Precheck passed", 90)
    text_in("dl.summary", "verify data and schema")
    tab_to("button:Start task")
    keys(Keys.ENTER)
    wait(lambda _: d.execute_script("return location.hash") == "#/tasks/" + VERIFY_TASK, 30,
         "the new task's page")

    step("verification results on the task page: the planted row, with its key")
    text_in("#verify-state", "different", 180)
    text_in("#verify", "1 difference found")
    text_in("#verify table.diffs", "extra")
    text_in("#verify table.diffs", "id=")
    text_in("#verify table.diffs", "999999")
    text_in("#verify table.diffs", "only at the destination")
    text_in("#verify .diff-table h3", "crm.leads")
    screenshot("task-verify-different")

    step("rendering checks from status fixtures: a tracking task's consumer groups (the field "
         "comes with another branch), a verification with changed rows, a transaction "
         "applied in pieces (sync, MariaDB GTID) and logged in pieces (tracking, MySQL GTID), "
         "and an error history")
    d.get(URL + "/#/fixtures")
    text_in("main h1", "Not found")
    now = "2026-12-02T10:00:00Z"
    d.execute_async_script("""
      const [tracking, empty, verify, history, done] = arguments;
      import('/console/tasks.js').then((m) => {
        const main = document.getElementById('main');
        main.replaceChildren();
        const h = document.createElement('h1');
        h.textContent = 'Task page panels (status fixtures)';
        main.append(h, m.trackingPanel(tracking), m.verifyPanel(verify, true));
        const e = m.trackingPanel(empty);
        e.id = 'tracking-empty';
        e.querySelector('h2').id = 'tracking-empty-h';
        e.querySelector('h2').textContent = 'Consumer groups of a new tracking task';
        e.setAttribute('aria-labelledby', 'tracking-empty-h');
        main.append(e);
        // Seen 10 s before `now` with 100,000 fewer rows: 10,000 rows/s (one clock reading, so
        // the rate does not depend on how fast the page runs).
        const now = Date.now();
        const seen = (rows) => ({ rows: rows - 100000, t: now - 10000 });
        main.append(m.openTransactionNotice({ kind: 'sync', applier: { open_transaction:
          { gtid: '0-101-48230117', rows: 1234567 } } }, seen(1234567), now));
        const o = m.openTransactionNotice({ kind: 'tracking', applier: { open_transaction:
          { gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:123456789', rows: 250000 } } },
          seen(250000), now);
        o.id = 'open-transaction-tracking';
        main.append(o, m.errorHistoryPanel(history));
        // A task that failed its precheck: failed at Precheck, nothing after it done (it was
        // drawn as Precheck and Schema done, Full data failed).
        const failed = m.pipeline({ kind: 'sync', phase: 'failed', state: 'failed', running: false,
          tables: [], changes_applied: 0, rows_done: 0, rows_estimated: 0,
          phases_done: { precheck: false, schema: false, full: false } });
        failed.id = 'pipeline-precheck-failed';
        const loaded = m.pipeline({ kind: 'sync', phase: 'failed', state: 'failed', running: false,
          tables: [{ done: true, rows_done: 6, rows_estimated: 13 }], changes_applied: 0,
          rows_done: 6, rows_estimated: 13,
          phases_done: { precheck: true, schema: true, full: true } });
        loaded.id = 'pipeline-incremental-failed';
        main.append(failed, loaded);
        done();
      });""", {
        "log_start_offset": 1200, "log_end_offset": 98765,
        "groups": [
            {"name": "search-indexer", "committed_offset": 98765, "lag": 0, "updated_at": now},
            {"name": "billing", "committed_offset": 90000, "lag": 8765, "updated_at": now},
            {"name": "audit-10", "committed_offset": 50000, "lag": 48765, "updated_at": now},
            {"name": "audit-9", "committed_offset": 97000, "lag": 1765, "updated_at": None}]},
        {"log_start_offset": 0, "log_end_offset": 0, "groups": []},
        {"state": "different", "tables_checked": 2, "tables_total": 2, "chunks": 14,
         "rows_checked": 120000, "row_differences": 2, "schema_differences": 1, "rechecks": 1,
         "seconds": 3.2, "detail": "shop.a -> shop_copy.a DIFFERENT\n",
         "differing_tables": [{
             "source_table": "shop.a", "target_table": "shop_copy.a", "keyless": False,
             "data_skipped_reason": "", "row_differences": 3,
             "schema": [{"object": "column `note`", "what": "character set",
                         "source": "utf8mb4", "destination": "latin1"}],
             "rows": [
                 {"kind": "changed", "key": {"id": "7", "region": "eu"}, "count": 1,
                  "columns": [{"column": "total", "source": "10.50", "destination": "10.05"},
                              {"column": "note", "source": "x", "destination": None}]},
                 {"kind": "missing", "key": {"id": "8", "region": "eu"}, "count": 1}]}],
         "incremental": {"rows_checked": 40, "row_differences": 1, "rechecks": 2, "skipped": 0,
                         "detail": "shop.b: changed: id='3' (note: source '<u>under</u>', "
                                   "destination '<img src=y onerror=alert(7)>')"}},
        # error_history as the API has it: oldest first, only the newest unrecovered.
        [past_error("unavailable: reading the binlog of node node-2 (10.0.0.12:3306): Lost "
                    "connection to server during query (error 2013)", "2026-12-01T09:15:00Z", 47),
         past_error("unavailable: destination 10.0.0.20:3306: Deadlock found when trying to get "
                    "lock; try restarting transaction (error 1213)", "2026-12-02T08:00:00Z", 0),
         past_error("unavailable: connecting to 10.0.0.20:3306 as 'dts': Access denied for user "
                    "'dts'@'10.0.0.5' (using password: YES) (error 1045)",
                    "2026-12-02T09:30:00Z", 754),
         past_error("unavailable: reading the binlog of node node-2 (10.0.0.12:3306): Can't "
                    "connect to server on '10.0.0.12' (111) (error 2002)", now, None)])
    groups = [e.get_attribute("data-group")
              for e in d.find_elements(By.CSS_SELECTOR, "#tracking tr.group-row")]
    assert groups == ["audit-9", "audit-10", "billing", "search-indexer"], groups
    text_in("#tracking tr[data-group=billing] .group-lag", "8,765")
    text_in("#tracking tr[data-group=search-indexer] .group-lag", "caught up")
    text_in("#tracking", "97,565")  # records kept: end - start
    text_in("#tracking-empty", "No consumer groups yet")
    text_in("#verify tr.diff-changed", "total: 10.50 at the source, 10.05 at the destination")
    text_in("#verify tr.diff-changed", "note: x at the source, NULL at the destination")
    text_in("#verify tr.diff-changed", "id=7, region=eu")
    text_in("#verify", "1 more not listed")
    text_in("#verify .schema-diffs", "character set (source utf8mb4, destination latin1)")
    states = [e.get_attribute("class") for e in
              d.find_elements(By.CSS_SELECTOR, "#pipeline-precheck-failed li")]
    assert states == ["phase p-stopped", "phase p-todo", "phase p-todo", "phase p-todo"], states
    text_in("#pipeline-precheck-failed li.p-stopped", "failed")
    states = [e.get_attribute("class") for e in
              d.find_elements(By.CSS_SELECTOR, "#pipeline-incremental-failed li")]
    assert states == ["phase p-done", "phase p-done", "phase p-done", "phase p-stopped"], states
    # A where: filter loaded 6 of a table estimated at 13 rows: its full data is done, bar full.
    fill = d.find_element(By.CSS_SELECTOR, "#pipeline-incremental-failed .fill")
    assert fill.get_attribute("data-pct") == "100", fill.get_attribute("data-pct")
    # Incremental verification's changed rows: shown (they were not at all), as text.
    text_in("#verify-incremental", "1 changed row differs at the destination after being applied")
    text_in("#verify-incremental pre", "destination '<img src=y onerror=alert(7)>'")
    assert not d.find_elements(By.CSS_SELECTOR, "#verify-incremental img")
    text_in("#open-transaction", "Applying one large transaction 0-101-48230117: 1,234,567 rows "
            "so far (about 10,000 rows/s). None of it is visible at the destination until its "
            "last row commits")
    text_in("#open-transaction-tracking", "Logging one large transaction "
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:123456789: 250,000 rows so far")
    text_in("#open-transaction-tracking", "Consumers read none of it until its last row is logged")
    for size in (WIDE, NARROW):  # a long GTID wraps inside its note, never past it
        d.set_window_size(*size)
        time.sleep(0.4)
        overflow = d.execute_script("""return ['open-transaction', 'open-transaction-tracking']
          .map((id) => document.getElementById(id).scrollWidth
                       - document.getElementById(id).clientWidth)""")
        assert max(overflow) <= 1, (size, overflow)
    d.set_window_size(*WIDE)
    # The error history, newest first: when each was first seen, recovered (when, after how
    # long) or not.
    shown = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#error-history li.past-error .msg")]
    order = ["Can't connect", "Access denied", "Deadlock", "Lost connection"]
    assert len(shown) == 4 and all(w in m for w, m in zip(order, shown)), shown
    badges = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#error-history li.past-error .badge")]
    assert badges == ["not recovered", "recovered", "recovered", "recovered"], badges
    recoveries = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#error-history .recovery")]
    assert len(recoveries) == 3 and all(r.startswith("Recovered at ") for r in recoveries), recoveries
    assert [r[r.rindex("("):] for r in recoveries] == [
        "(after 12 min 34 s)", "(within a second)", "(after 47 s)"], recoveries
    assert not d.find_elements(By.CSS_SELECTOR, "#error-history li.is-open .recovery")
    first_seen = d.find_element(By.CSS_SELECTOR, "#error-history li.past-error time")
    assert first_seen.get_attribute("datetime") == now, first_seen.get_attribute("datetime")
    assert " Dec, " in first_seen.text, first_seen.text  # a date: errors can be days old
    text_in("#error-history .help", "The task's last 4 errors, newest first")
    screenshot("panels-fixtures")

    step("a tracking task's page, end to end: its consumer group and the group's lag")
    TRACK = "console-track"
    api("/api/v1/tasks?start=true",
        {"name": TRACK, "kind": "tracking",
         "source": {"endpoint": P["endpoint"], "user": "dts", "password_env": PW_ENV},
         "objects": [{"database": "shop"}]})
    # The insert loop writes to shop.orders: the log grows past the group's commit.
    wait(lambda _: api("/api/v1/tasks/" + TRACK).get("tracking", {}).get("log_end_offset", 0) > 3,
         120, "the tracking task's log to hold records")
    api("/api/v1/tasks/%s/groups/billing/commit" % TRACK, {"offset": 1})
    d.get(URL + "/#/tasks/" + TRACK)
    text_in("#tracking tr[data-group=billing]", "billing", 60)
    # No schema or full data for a tracking task: its pipeline is precheck, then tracking.
    text_in("ol.pipeline", "Tracking")
    assert "Full data" not in find("ol.pipeline").text, find("ol.pipeline").text
    wait(lambda _: "changes logged" in find(".progress-table thead").text.lower(), 30,
         "the tables' 'Changes logged' column")
    lag = api("/api/v1/tasks/%s/groups" % TRACK)["groups"][0]["lag"]
    assert lag > 0, "the group should lag behind the growing log, lag %s" % lag
    wait(lambda _: "caught up" not in find("#tracking tr[data-group=billing] .group-lag").text,
         30, "the group's lag on the page")
    screenshot("task-tracking")

    step("a task's error history on its page, from the API: a source nobody listens on")
    FLAKY = "console-flaky"
    FLAKY_PW = "console-flaky-pw-never-shown"
    api("/api/v1/tasks?start=true",
        {"name": FLAKY, "kind": "sync",
         "source": {"endpoint": "127.0.0.1:1", "user": "dts", "password": FLAKY_PW},
         "destination": {"endpoint": P["destination"], "user": "dts", "password_env": PW_ENV},
         "objects": [{"database": "shop"}]})
    wait(lambda _: api("/api/v1/tasks/" + FLAKY).get("error_history"), 60,
         "the failing task's error history")
    d.get(URL + "/#/tasks/" + FLAKY)
    text_in("#error-history li.is-open .badge", "not recovered", 30)
    text_in("#error-history li.is-open .msg", "127.0.0.1:1")
    assert FLAKY_PW not in d.page_source, "the source's password is on the page"
    screenshot("task-error-history")
    api("/api/v1/tasks/%s/stop" % FLAKY, {})
    wait(lambda _: api("/api/v1/tasks/" + FLAKY)["state"] == "stopped", 60, "the task stopped")
    api("/api/v1/tasks/" + FLAKY, method="DELETE")

    step("a bad task name: a 404 page, not a blank one")
    d.get(URL + "/#/tasks/no-such-task")
    text_in(".empty h2", "No task named no-such-task")
    screenshot("task-missing", narrow=False)

    step("log out: the token is gone and the API is not reachable from the page")
    d.get(URL + "/#/tasks")
    click("#logout")
    visible("#token")
    assert d.execute_script("return sessionStorage.getItem('dts-token')") is None
    print("console test passed; %d pages audited by axe-core; screenshots in %s" % (audited[0], SHOTS))
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
