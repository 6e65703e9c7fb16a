"""The pytest plugin, used the way a user project would: pytester runs a small example project
whose tests use only the `loyalty_gateway` fixture."""
from __future__ import annotations

pytest_plugins = ["pytester"]

EXAMPLE = '''
import json
import urllib.request


def get(gw, path, vendor):
    req = urllib.request.Request(gw.url(path), headers=gw.headers(vendor))
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def test_balance_then_return_window(loyalty_gateway):
    gw = loyalty_gateway
    body = get(gw, "/api/v4.0/integrations/customers/user-123/balance", "gameball")
    assert body["pendingPoints"] == 400
    gw.advance("P14D")
    body = get(gw, "/api/v4.0/integrations/customers/user-123/balance", "gameball")
    assert (body["pendingPoints"], body["availablePointsBalance"]) == (0, 1800)
    assert [e["operation"] for e in gw.journal(vendor="gameball")] == ["get_customer_balance"] * 2


def test_isolated_from_the_other_test(loyalty_gateway):
    body = get(loyalty_gateway, "/api/v4.0/integrations/customers/user-123/balance", "gameball")
    assert body["pendingPoints"] == 400          # the other test's clock move is not seen here
    assert loyalty_gateway.journal() and len(loyalty_gateway.journal()) == 1


def test_fault_in_vendor_shape(loyalty_gateway):
    loyalty_gateway.fault("gameball", "error", case="rate_limit", times=1)
    try:
        get(loyalty_gateway, "/api/v4.0/integrations/customers/user-123/balance", "gameball")
    except urllib.error.HTTPError as exc:
        assert exc.code == 429 and json.loads(exc.read())["code"] == 4029
    else:
        raise AssertionError("the fault did not fire")


def test_views_side_by_side(loyalty_gateway):
    views = loyalty_gateway.views("user@example.com")
    assert set(views) == {"omneo", "altcraft", "gameball", "brevo"}


def test_load_own_world(loyalty_gateway):
    world = {"programs": [{"id": "p", "money_currency": "EUR", "point_currencies": [{"id": "pts", "value": "0.01"}]}],
             "members": [{"identities": {"gameball.customer": "c-1"}, "history": [{"at": "-1d", "credit": 42}]}]}
    loyalty_gateway.load(world)
    body = get(loyalty_gateway, "/api/v4.0/integrations/customers/c-1/balance", "gameball")
    assert (body["availablePointsBalance"], body["currency"]) == (42, "EUR")
'''


def test_user_project_gets_a_working_gateway(pytester):
    pytester.makepyfile(test_example=EXAMPLE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=5)


def test_parallel_workers_do_not_collide(pytester):
    pytester.makepyfile(test_example=EXAMPLE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-n", "2")
    result.assert_outcomes(passed=5)


def test_the_readme_example_runs_as_printed(pytester):
    import re
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert "loyalty_gateway" in example
    pytester.makepyfile(test_readme_example=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


OWN_WORLD = """
tenant: shop
credentials:
  gameball: {apikey: shop-apikey, secretkey: shop-secretkey}
programs:
  - {id: p, money_currency: EUR, point_currencies: [{id: pts, value: "0.01"}]}
members:
  - identities: {gameball.customer: c-1}
    history: [{at: -1d, credit: 42}]
"""

OWN_WORLD_TESTS = '''
import json
import urllib.request

HEADERS = {"apikey": "shop-apikey", "secretkey": "shop-secretkey"}   # as the client under test is configured


def balance(gw):
    req = urllib.request.Request(gw.url("/api/v4.0/integrations/customers/c-1/balance"), headers=HEADERS)
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def test_first(loyalty_gateway):
    assert loyalty_gateway.tenant == "shop"
    assert loyalty_gateway.credentials["gameball"] == {"apikey": "shop-apikey", "secretkey": "shop-secretkey"}
    assert balance(loyalty_gateway)["availablePointsBalance"] == 42
    loyalty_gateway.advance("P1D")


def test_second_gets_a_fresh_copy(loyalty_gateway):
    assert balance(loyalty_gateway)["availablePointsBalance"] == 42
'''


def test_own_world_keeps_its_credentials(pytester):
    pytester.makefile(".yaml", world=OWN_WORLD)
    pytester.makepyfile(test_own=OWN_WORLD_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--loyalty-gateway-fixtures", "world.yaml")
    result.assert_outcomes(passed=2)


def test_a_bad_world_file_is_one_clear_failure(pytester):
    pytester.makefile(".yaml", world="programs:\n  - {id: p, money_currency: eur, point_currencies: [{id: x, value: 1}]}\n")
    pytester.makepyfile(test_own=OWN_WORLD_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--loyalty-gateway-fixtures", "world.yaml")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*--loyalty-gateway-fixtures world.yaml: the fixtures document is not valid*",
                                 "*world.yaml#/programs/0/money_currency: 'eur' does not match*"])
    assert "Traceback" not in result.stdout.str()
    pytester.makepyfile(test_own=OWN_WORLD_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--loyalty-gateway-fixtures", "missing.yaml")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*--loyalty-gateway-fixtures: missing.yaml: cannot read: No such file or directory*"])


def test_the_demo_file_itself_as_a_users_world(pytester):
    """fixtures/demo.yaml names tenant `demo` and the demo credentials: the plugin's own gateway holds no tenant
    of its own, so nothing collides."""
    from pathlib import Path
    demo = (Path(__file__).resolve().parent.parent / "fixtures" / "demo.yaml").read_text()
    pytester.makefile(".yaml", world=demo)
    pytester.makepyfile(test_demo='''
import json, urllib.request

def test_demo_credentials_work(loyalty_gateway):
    assert loyalty_gateway.tenant == "demo"
    req = urllib.request.Request(loyalty_gateway.url("/api/v4.0/integrations/customers/user-123/balance"),
                                 headers={"apikey": "demo-gameball-apikey", "secretkey": "demo-gameball-secretkey"})
    assert json.loads(urllib.request.urlopen(req).read())["availablePointsBalance"] == 1400
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--loyalty-gateway-fixtures", "world.yaml")
    result.assert_outcomes(passed=1)


def test_load_reads_a_file_as_serve_does(tmp_path):
    """Unquoted YAML dates (a plain YAML reader makes them datetimes, which the JSON body cannot carry)."""
    from gateway.pytest_plugin import LoyaltyGateway, _call, _Server
    world = tmp_path / "world.yaml"
    world.write_text("clock: {now: 2026-03-10T12:00:00Z, frozen: true}\n"
                     "programs: [{id: p, money_currency: EUR, point_currencies: [{id: pts, value: '0.01'}]}]\n"
                     "members: [{identities: {gameball.customer: c-1}, history: [{at: 2026-03-09T12:00:00Z, credit: 7}]}]\n")
    server = _Server()
    url = server.start()
    try:
        created = _call(url, "POST", "/__admin/tenants", token=server.token)
        gw = LoyaltyGateway(url, created["tenant"], created["credentials"], server.token)
        gw.load(world)
        assert gw.clock()["now"] == "2026-03-10T12:00:00Z"
        assert gw.views("c-1")["gameball"]["availablePointsBalance"] == 7
    finally:
        server.stop()
