"""The web console in a real headless Chromium, against a running `fireshare serve`.

Arguments: base URL, admin token, auditor token, a second admin's token, the fireshare
binary, the data directory, a directory for the table, for downloads and for screenshots.
Writes a FIRE collateral table with `deltalake` (version 0: 100 valid rows; version 1: 100
more, 20 of them with a negative charge: 90%, under a 95% threshold), then works through the
console as an admin, an auditor and a revoked admin would, reading the table with the real
connector in between. Prints one JSON line of what it saw; fails loudly on anything else.
"""

import glob
import json
import os
import subprocess
import sys
import time

import delta_sharing
import pandas as pd
import requests
from deltalake import write_deltalake
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, NoSuchElementException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

(base, admin_token, auditor_token, bob_token, binary, data_dir, table_dir, downloads,
 shots) = sys.argv[1:10]
console = base + "/console"
seen = {}


def collateral(start, n, bad):
    ids = range(start, start + n)
    return pd.DataFrame({
        "id": [f"COL-{i:05}" for i in ids],
        "date": pd.to_datetime(["2024-03-31T00:00:00Z"] * n, utc=True),
        "type": ["cash" if i % 2 else "security" for i in ids],
        "value": pd.array([1_000_000 + i for i in ids], dtype="int64"),
        "encumbrance_type": ["none"] * n,
        "encumbrance_amount": pd.array([0] * n, dtype="int64"),
        "charge": pd.array([-1 if i - start < bad else 1 for i in ids], dtype="int32"),
    })


write_deltalake(table_dir, collateral(0, 100, 0))
write_deltalake(table_dir, collateral(100, 100, 20), mode="append")


def browser(download_dir):
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-features=Translate,OptimizationHints,MediaRouter"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": download_dir,
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    return driver


def check(condition, what):
    if not condition:
        raise AssertionError(what)


class Console:
    def __init__(self, name, token):
        self.name = name
        self.dir = os.path.join(downloads, name)
        os.makedirs(self.dir, exist_ok=True)
        self.d = browser(self.dir)
        self.go("")
        check(self.d.current_url.endswith("/console/sign-in"), f"not sent to sign in: {self.d.current_url}")
        self.d.find_element(By.ID, "token").send_keys(token)
        self.click(self.d.find_element(By.CSS_SELECTOR, "#sign-in button"))
        check(self.d.title.startswith("Overview"), f"{name} not signed in: {self.d.title}")

    def go(self, path):
        self.d.get(console + path)
        self.no_alert()

    def no_alert(self):
        try:
            text = self.d.switch_to.alert.text
        except NoAlertPresentException:
            return
        raise AssertionError(f"a script ran in the page: alert {text!r}")

    def click(self, element, confirm=False):
        html = self.d.find_element(By.TAG_NAME, "html")
        element.click()
        if confirm:
            WebDriverWait(self.d, 5).until(lambda d: d.switch_to.alert).accept()
        WebDriverWait(self.d, 30).until(lambda d: self.stale(html))
        self.no_alert()

    @staticmethod
    def stale(element):
        try:
            element.tag_name
            return False
        except Exception:
            return True

    def submit(self, form_id, confirm=False, **fields):
        form = self.d.find_element(By.ID, form_id)
        for name, value in fields.items():
            field = form.find_element(By.NAME, name)
            if field.tag_name == "select":
                Select(field).select_by_value(value)
            elif field.get_attribute("type") == "checkbox":
                if value != field.is_selected():
                    field.click()
            else:
                field.clear()
                field.send_keys(value)
        self.click(form.find_element(By.CSS_SELECTOR, "button[type=submit]"), confirm)

    def notice(self):
        return " ".join(n.text for n in self.d.find_elements(By.CSS_SELECTOR, ".notice"))

    def shot(self, name):
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(1280, min(max(900, height + 40), 6000))
        self.d.save_screenshot(os.path.join(shots, f"{name}.png"))
        self.d.set_window_size(1280, 900)

    def post(self, path, fields):
        """A form POST made by a script in the page (what a forged or crafted request does)."""
        return self.d.execute_async_script(
            """const [path, fields, done] = arguments;
               fetch(path, {method: 'POST', body: new URLSearchParams(fields)})
                 .then(r => done(r.status)).catch(e => done(String(e)));""",
            console + path, fields)

    def csrf(self):
        return self.d.find_element(By.CSS_SELECTOR, "#sign-out input[name=csrf]").get_attribute("value")

    def cookie(self):
        return self.d.get_cookie("fireshare_console")["value"]

    def download(self, pattern, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [f for f in glob.glob(os.path.join(self.dir, pattern)) if not f.endswith(".crdownload")]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"nothing matching {pattern} was downloaded into {self.dir}")


def rows(profile):
    try:
        return len(delta_sharing.load_as_pandas(f"{profile}#reports.fire.collateral"))
    except Exception as e:  # the connector raises the server's refusal
        return f"refused: {e}"


admin = Console("admin", admin_token)

# A wrong token is refused on the sign-in page itself.
wrong = browser(downloads)
wrong.get(console + "/sign-in")
wrong.find_element(By.ID, "token").send_keys("fsa_not-a-token")
wrong.find_element(By.CSS_SELECTOR, "#sign-in button").click()
WebDriverWait(wrong, 10).until(lambda d: d.find_elements(By.ID, "sign-in-error"))
seen["wrong_token"] = wrong.find_element(By.ID, "sign-in-error").text
wrong.quit()

# Register the table, make a share (its comment is markup: shown as text), add the table.
admin.go("/tables")
admin.submit("create-table", name="fire.collateral", location=table_dir)
seen["created_table"] = admin.notice()
admin.go("/shares")
admin.submit("create-share", name="reports", comment="<script>alert(1)</script>")
cells = [td.text for td in admin.d.find_elements(By.CSS_SELECTOR, "td")]
check("<script>alert(1)</script>" in cells, f"the comment is not shown as text: {cells}")
check("<script>alert(1)" not in admin.d.page_source, "the comment reached the page unescaped")
admin.go("/shares/reports")
admin.submit("add-table", table="fire.collateral", history=True)
seen["added_table"] = admin.notice()

# A refused form says why next to its fields.
admin.go("/shares")
admin.submit("create-share", name="reports")
seen["duplicate_share"] = admin.d.find_element(By.ID, "create-share-error").text

# A recipient, its activation link shown once, opened from the page: the profile downloads.
admin.go("/recipients")
admin.submit("create-recipient", name="regulator", token_lifetime="10d",
             ip_access_list="127.0.0.1, ::1")
link = admin.d.find_element(By.ID, "activation-link")
check(admin.d.find_elements(By.CSS_SELECTOR, "button[data-copy=activation-link]"), "no copy button")
seen["activation_link"] = link.get_attribute("href").split("/activate/")[0] + "/activate/…"
admin.shot("recipient-created")
link.click()
profile = admin.download("regulator*.share")
admin.go("/recipients/regulator")
check("fsr_" in admin.d.page_source, "the recipient's token is not listed")
admin.go("/shares/reports")
admin.submit("grant", recipient="regulator")
seen["granted"] = admin.notice()
seen["rows_unbound"] = rows(profile)

# Bind to FIRE: version 1 (90%) is held back, version 0 served; the chart has both.
admin.go("/tables/fire.collateral")
admin.submit("bind", entity="collateral", min_pass_rate="0.95")
deadline = time.time() + 60
while True:
    admin.go("/tables/fire.collateral")
    points = admin.d.find_elements(By.CSS_SELECTOR, "figure.chart svg circle[data-version]")
    if len(points) == 2 or time.time() > deadline:
        break
    time.sleep(0.5)
seen["chart_points"] = len(points)
seen["held_points"] = len(admin.d.find_elements(By.CSS_SELECTOR, "svg circle.point.held"))
seen["served_marks"] = len(admin.d.find_elements(By.CSS_SELECTOR, "svg circle.served"))
seen["threshold_lines"] = len(admin.d.find_elements(By.CSS_SELECTOR, "svg line.threshold"))
admin.shot("table")
seen["rows_held_back"] = rows(profile)
admin.go("")
seen["overview_held"] = [td.text for td in admin.d.find_elements(By.CSS_SELECTOR, "td")][:4]
admin.shot("overview")

# Approve version 1: the recipient reads it.
admin.go("/tables/fire.collateral?version=1")
check("Quality of version 1" in admin.d.page_source, "no quality report of version 1")
admin.submit("decide", decision="approve", comment="charges corrected upstream")
seen["approved"] = admin.notice()
seen["rows_approved"] = rows(profile)

# The audit page: the recipient's query, its receipt verified; the filtered view exported.
admin.go("/audit?actor=regulator&action=queryTable")
admin.shot("audit")
request_ids = admin.d.find_elements(By.CSS_SELECTOR, "td a[href*='/audit/event']")
check(request_ids, "no query of the recipient in the ledger")
admin.click(request_ids[0])
seen["receipt"] = admin.d.find_element(By.ID, "receipt-verified").text
admin.shot("audit-event")
admin.go("/audit?actor=regulator&action=queryTable")
admin.d.find_element(By.LINK_TEXT, "CSV").click()
with open(admin.download("fireshare-audit*.csv")) as f:
    exported = f.read().splitlines()
seen["csv_header"] = exported[0].split(",")[:5]
seen["csv_rows"] = len(exported) - 1
seen["csv_actions"] = sorted({line.split(",")[7] for line in exported[1:]})
admin.go("/shares/reports")
seen["share_grants"] = [td.text for td in admin.d.find_elements(By.CSS_SELECTOR, "td") if td.text == "regulator"]
admin.shot("share")

# Verify the ledger now.
admin.go("")
admin.submit("verify")
seen["verified"] = admin.notice()

# Every page carries the security headers (read with the browser's session cookie).
jar = {"fireshare_console": admin.cookie()}
headers = {}
for path in ["", "/shares", "/shares/reports", "/recipients", "/recipients/regulator", "/tables",
             "/tables/fire.collateral", "/audit", "/credentials", "/sign-in"]:
    response = requests.get(console + path, cookies=jar, allow_redirects=False, timeout=30)
    headers[path or "/"] = (response.status_code, response.headers.get("Content-Security-Policy", ""),
                            response.headers.get("X-Frame-Options", ""))
seen["headers"] = headers

# A form without the CSRF token, or with another session's, is refused.
seen["post_without_csrf"] = admin.post("/shares", {"name": "sneaky"})
seen["post_with_forged_csrf"] = admin.post("/shares", {"name": "sneaky", "csrf": "00" * 32})

# Revoke the recipient's tokens in the console: its next read fails.
admin.go("/recipients/regulator")
admin.shot("recipient")
admin.submit("revoke-tokens", confirm=True)
seen["revoked"] = admin.notice()
seen["rows_revoked"] = rows(profile)
admin.go("/recipients")
admin.shot("recipients")
admin.go("/tables")
admin.shot("tables")
admin.go("/shares")
admin.shot("shares")
admin.go("/credentials")
admin.shot("credentials")

# The auditor reads every page, gets no write control, and a crafted write is refused.
auditor = Console("auditor", auditor_token)
writes = {}
for path in ["", "/shares", "/shares/reports", "/recipients", "/recipients/regulator", "/tables",
             "/tables/fire.collateral?version=1", "/audit", "/credentials"]:
    auditor.go(path)
    check(not auditor.d.title.startswith("Not available"), f"auditor cannot read {path}")
    forms = [f.get_attribute("id") for f in auditor.d.find_elements(By.CSS_SELECTOR, "form[method=post]")]
    writes[path or "/"] = sorted(set(forms) - {"sign-out", "verify"})
seen["auditor_write_forms"] = writes
auditor.go("/shares")
auditor.shot("auditor-shares")
seen["auditor_crafted_post"] = auditor.post("/shares", {"name": "by_auditor", "csrf": auditor.csrf()})
auditor.go("/shares")
seen["auditor_share_made"] = "by_auditor" in auditor.d.page_source

# A session whose token is revoked is signed out on its next request.
bob = Console("bob", bob_token)
prefix = bob_token[:12]
subprocess.run([binary, "sql", "--data-dir", data_dir, f"REVOKE ADMIN TOKEN '{prefix}'"],
               check=True, capture_output=True)
bob.go("/shares")
seen["revoked_session"] = bob.d.find_element(By.ID, "sign-in-error").text
bob.d.quit()

# Signing out ends the session: its cookie opens nothing afterwards.
cookie = admin.cookie()
admin.go("")
admin.click(admin.d.find_element(By.CSS_SELECTOR, "#sign-out button"))
seen["signed_out_at"] = admin.d.current_url.replace(base, "")
after = requests.get(console + "/shares", cookies={"fireshare_console": cookie}, timeout=30)
seen["after_sign_out"] = after.status_code
admin.d.quit()
auditor.d.quit()
print(json.dumps(seen))
