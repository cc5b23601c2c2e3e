"""Drives the mock through zeep clients generated from its own WSDLs.

Usage: wsdl_client_check.py BASE_URL PROFILE (run by wsdl-client-check.sh).
Exits non-zero, saying why, on the first thing that does not hold.
"""

import json
import sys
import urllib.request

from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

BASE, PROFILE = sys.argv[1], sys.argv[2]
SETTINGS = Settings(strict=True)
checks = 0


def check(cond, what):
    global checks
    if not cond:
        sys.exit(f"FAIL [{PROFILE}] {what}")
    checks += 1


def get_json(path):
    with urllib.request.urlopen(BASE + path) as r:
        return json.load(r)


def client(service, wsse=None):
    return Client(f"{BASE}/oscar/ws/{service}?wsdl", wsse=wsse, settings=SETTINGS)


user = get_json("/__admin/credentials")["users"][0]
operations = get_json("/__admin/catalog")["operations"]
services = sorted({op["id"].split(".")[0] for op in operations if op["api"] == "soap"})

# Every service's WSDL and schema load, and every catalogue operation is
# an operation of the generated client.
for service in services:
    c = client(service)
    bound = {name for name in c.service._binding._operations}
    expected = {op["id"].split(".")[1] for op in operations if op["id"].startswith(service + ".")}
    check(bound == expected, f"{service}: WSDL operations {sorted(bound ^ expected)} differ from the catalogue")

login = client("LoginService").service.login2(user["username"], user["password"])
check(str(login.securityId) == str(user["security_no"]), "login2 returns the security number")
check(login.provider.providerNo == user["provider_no"], "login2 returns the provider")

password = UsernameToken(str(user["security_no"]), user["password"])
token = UsernameToken(str(login.securityId), login.securityTokenKey)

demo = client("DemographicService", password).service.getDemographic(1)
check(demo.demographicNo == 1 and demo.lastName, "getDemographic(1) with the password")
check(len(demo.dateOfBirth) == 2 and len(demo.yearOfBirth) == 4, "the birth date is split")

me = client("ProviderService", token).service.getLoggedInProviderTransfer()
check(me.providerNo == user["provider_no"], "getLoggedInProviderTransfer with the LoginService token")

schedule = client("ScheduleService", token)
new_id = schedule.service.addAppointment({
    "providerNo": "100001",
    "demographicNo": 1,
    "programId": 0,
    "appointmentStartDateTime": "2031-06-02T09:00:00-05:00",
    "appointmentEndDateTime": "2031-06-02T09:15:00-05:00",
    "reason": "booked by zeep",
})
back = schedule.service.getAppointment2(new_id, True)
check(back.id == new_id and back.reason == "booked by zeep", "addAppointment then getAppointment2")
check(back.appointmentStartDateTime.utcoffset().total_seconds() == 0, "useGMTTime gives UTC calendars")

codes = schedule.service.getScheduleTemplateCodes()
check(any(c.code == ord("A") for c in codes), "template codes are code points (A = 65)")

expected_fault = "FailedAuthentication" if PROFILE == "oscar" else "SecurityError"
for bad in (UsernameToken(str(user["security_no"]), "wrong"),
            UsernameToken(str(user["security_no"]), user["password"], use_digest=True)):
    try:
        client("ProviderService", bad).service.getLoggedInProviderTransfer()
        check(False, "a bad UsernameToken is refused")
    except Fault as f:
        check(expected_fault in str(f.code), f"the fault code is {expected_fault} (got {f.code})")

try:
    client("LoginService").service.login(user["username"], "wrong")
    check(False, "a bad login is refused")
except Fault as f:
    check(f.message == "Invalid Username/Password", f"NotAuthorisedException's message (got {f.message})")

print(f"ok [{PROFILE}] {len(services)} WSDLs loaded by zeep; {checks} checks passed against {BASE}")
