from tests.conftest import make_matter


def test_login_and_matter_list(client, auth, county, db):
    make_matter(county["a"])
    db.session.commit()
    r = client.get("/login")
    assert r.status_code == 200
    r = auth.login("a_director")
    assert r.status_code == 302, r.data.decode()[:2000]
    r = client.get("/")
    assert r.status_code == 200, r.data.decode()[:3000]
    r = client.get("/r/matters/")
    assert r.status_code == 200, r.data.decode()[:3000]
    assert "城乡居民养老保险参保登记" in r.data.decode()
