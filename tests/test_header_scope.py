"""--header goes to the page's origin: the same scheme, host (as the browser names it) and port."""

from boxcrawl.browser.tab import origin


def test_origin_is_what_a_browser_request_of_the_same_site_has():
    assert origin("https://bücher.example/a") == origin("https://xn--bcher-kva.example/b?c")  # punycode
    assert origin("https://Example.org/") == origin("https://example.org:443/x")
    assert origin("http://example.org/") == origin("http://example.org:80/")
    assert origin("http://example.org/") != origin("https://example.org/")  # no credential over cleartext
    assert origin("http://127.0.0.1:8080/") != origin("http://127.0.0.1:8081/")
