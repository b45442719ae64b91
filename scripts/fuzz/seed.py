"""Prepare a schemathesis run against a fresh development server (used by scripts/schemathesis.sh).

Registers two tenants through the API (development mock OTP): A is the tenant every
generated request runs as; B's token is used only by `POST /api/auth/logout` and
`DELETE /api/staff/sessions/{sessionId}`, so that ending a session does not turn the rest of the
run into 401s. Creates a little of A's data (group,
items, customer, cart, invoice, dealer, order, payment) and writes the schemathesis config:
A's token, A's clientId in every `clientId` parameter (path, query, body), and the real ids
as dictionaries that id parameters (path, query and body) draw from half of the time, so
that generated requests reach real documents as well as missing ones.

Usage: seed.py seed BASE_URL DIR    writes DIR/schemathesis.toml and DIR/state.json
       seed.py check BASE_URL DIR   after the run: A's session must still be alive (else the
                                    run only saw 401s) and B's must have been logged out
"""

import json
import os
import random
import sys
import time

import requests

MODE, BASE, DIR = sys.argv[1], sys.argv[2], sys.argv[3]
S = requests.Session()


def wait_ready():
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if S.get(f"{BASE}/api/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    sys.exit(f"seed: the server at {BASE} did not become healthy (see .cache/schemathesis-server.log)")


def call(method, path, token=None, body=None, expect=(200, 201)):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = S.request(method, f"{BASE}{path}", json=body, headers=headers, timeout=30)
    if r.status_code not in expect:
        sys.exit(f"seed: {method} {path} -> {r.status_code} {r.text[:500]}")
    return r.json()


def register(phone, business):
    call("POST", "/api/mockotp/send", body={"phoneNumber": phone, "purpose": "register"})
    code = "1234567890"[:4]
    r = call(
        "POST",
        "/api/auth/register",
        body={
            "phoneNumber": phone,
            "otp": code,
            "ownerName": "Fuzz Owner",
            "businessName": business,
            "deviceId": "fuzz-device",
        },
    )
    return r["token"], r["clientId"]


def oid(obj):
    return obj.get("_id") or obj["id"]


def phone():
    return "9" + "".join(random.choice("0123456789") for _ in range(9))


if MODE == "check":
    with open(f"{DIR}/state.json") as f:
        st = json.load(f)
    r = S.get(f"{BASE}/api/client/{st['clientId']}", headers={"Authorization": f"Bearer {st['token']}"}, timeout=30)
    if r.status_code != 200:
        sys.exit(f"check: tenant A's session did not survive the run ({r.status_code} {r.text[:300]})")
    if "--no-logout" in sys.argv:
        print("check: tenant A still logged in")
        sys.exit(0)
    r = S.get(f"{BASE}/api/client/{st['logoutClientId']}", headers={"Authorization": f"Bearer {st['logoutToken']}"})
    if r.status_code != 401:
        sys.exit(f"check: POST /api/auth/logout never logged tenant B out ({r.status_code})")
    print("check: tenant A still logged in; tenant B logged out by the fuzzed logout")
    sys.exit(0)

wait_ready()
token, cid = register(phone(), "Fuzz Spares")
logout_token, logout_cid = register(phone(), "Fuzz Logout Shop")

group = oid(call("POST", "/api/business/item-groups", token, {"clientId": cid, "name": "Fuzz group"})["itemGroup"])
items = [
    oid(
        call(
            "POST",
            "/api/business/items",
            token,
            {"clientId": cid, "name": f"Fuzz item {i}", "price": 12.5 * (i + 1), "stock": 1000, "groupId": group},
        )["item"]
    )
    for i in range(3)
]
cust_phone = phone()
customer = oid(
    call("POST", "/api/business/client-customers", token, {"clientId": cid, "phone": cust_phone, "name": "Ravi"})[
        "clientCustomer"
    ]
)
cart = call("POST", "/api/business/carts", token, {"clientId": cid, "clientCustomerPhone": cust_phone})
cart_id = oid(cart.get("cart", cart))
call("POST", "/api/business/carts/add-item", token, {"clientId": cid, "cartId": cart_id, "itemId": items[0], "quantity": 1})
invoice = call(
    "POST",
    "/api/business/invoices/generatewithproducts",
    token,
    {
        "clientId": cid,
        "clientCustomerPhone": cust_phone,
        "clientCustomerName": "Ravi",
        "products": [{"productId": items[1], "quantity": 2}],
        "paidAmount": 5,
    },
)
invoice_id = oid(invoice["invoice"])
dealer = oid(call("POST", "/api/dealer", token, {"clientId": cid, "name": "Fuzz Distributors"})["dealer"])
call("PUT", f"/api/business/items/{cid}/{items[2]}", token, {"clientId": cid, "dealerIds": [dealer]})
order = oid(
    call(
        "POST",
        "/api/dealer/orders",
        token,
        {"clientId": cid, "dealerId": dealer, "items": [{"itemId": items[2], "quantity": 4}]},
    )["order"]
)
payment = oid(
    call("POST", "/api/dealer/payments", token, {"clientId": cid, "dealerId": dealer, "amount": 100})["payment"]
)

ids = {
    "groups": [group],
    "items": items,
    "customers": [customer],
    "phones": [cust_phone],
    "carts": [cart_id],
    "invoices": [invoice_id],
    "dealers": [dealer],
    "orders": [order],
    "payments": [payment],
}
bind = {
    "groupId": "groups",
    "itemId": "items",
    "productId": "items",
    "clientCustomerId": "customers",
    "phone": "phones",
    "cartId": "carts",
    "invoiceId": "invoices",
    "dealerId": "dealers",
    "orderId": "orders",
    "paymentId": "payments",
}


def q(s):
    return json.dumps(s)  # a TOML basic string is a JSON string for these values


lines = [
    "# Written by scripts/fuzz/seed.py for one run; not kept.",
    "[cache]",  # crash files for `st replay`, in the ignored .cache/ rather than ./.schemathesis
    f"directory = {q(os.path.abspath('.cache/schemathesis'))}",
    "",
    "[headers]",
    f"Authorization = {q('Bearer ' + token)}",
    "",
    "[parameters]",
]
for loc in ("path", "query", "body"):
    lines.append(f'"{loc}.clientId" = {q(cid)}')
for name, dic in bind.items():
    for loc in ("path", "query", "body"):
        lines.append(f'"{loc}.{name}" = {{ dictionary = "{dic}", probability = 0.5 }}')
for key, dic in {
    "body.clientCustomerPhone": "phones",
    "body.products[*].productId": "items",
    "body.items[*].itemId": "items",
}.items():
    lines.append(f'"{key}" = {{ dictionary = "{dic}", probability = 0.5 }}')
lines.append("")
for dic, values in ids.items():
    lines.append(f"[dictionaries.{dic}]")
    lines.append(f"values = [{', '.join(q(v) for v in values)}]")
lines += [
    "",
    "[[operations]]",
    # the operations that end a session run with tenant B's token (ending A's would turn the
    # rest of the run into 401s): logout, and an admin ending a session, whose id the stateful
    # phase can take from GET /api/staff/sessions
    'include-path-regex = "(/auth/logout|/staff/sessions/[{]sessionId[}])$"',
    "[operations.headers]",
    f"Authorization = {q('Bearer ' + logout_token)}",
    "",
]
with open(f"{DIR}/schemathesis.toml", "w") as f:
    f.write("\n".join(lines))
with open(f"{DIR}/state.json", "w") as f:
    json.dump({"token": token, "clientId": cid, "logoutToken": logout_token, "logoutClientId": logout_cid}, f)
print(f"seed: tenant {cid}: 1 group, {len(items)} items, 1 customer, 1 cart, 1 invoice, 1 dealer, 1 order, 1 payment")
