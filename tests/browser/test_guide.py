"""A person on a phone reads the service guide."""


def test_guide_search_and_item_page_on_a_phone(phone):
    phone.goto("/guide/")
    phone.fill("#q", "异地")
    phone.click("button[type=submit]")
    first = phone.locator("ul.plain a").first
    assert "异地" in first.inner_text()
    first.click()
    assert phone.locator("svg.flow").is_visible()
    # nothing is wider than the phone: no horizontal scrolling of the page
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_elder_mode_and_english_switches(phone):
    phone.goto("/guide/")
    phone.click(".toggles a >> nth=1")  # the elder-mode switch
    assert "elder" in (phone.locator("body").get_attribute("class") or "")
    phone.click("text=English")
    assert phone.locator("html").get_attribute("lang") == "en"
