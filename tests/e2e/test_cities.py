import datetime

import pytest
from django.utils import timezone

from cities.models import BoardSeat, City, Contact
from crm.core.roles import PROGRAM_STAFF

from ..factories import (
    BoardSeatFactory,
    CityFactory,
    CityNetworkFactory,
    ContactFactory,
    CountryFactory,
    MayoralTermFactory,
    MayorFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _world():
    today = timezone.localdate()
    brazil = CountryFactory(code="BR", name="Brazil")
    swiss = CountryFactory(code="CH", name="Switzerland", region="europe")
    sierra = CountryFactory(code="SL", name="Sierra Leone", region="africa")
    c40 = CityNetworkFactory(name="C40 Cities", short_name="C40")
    sao = CityFactory(
        name="São Paulo",
        aliases="Sao Paulo\nSampa",
        country=brazil,
        population=11_450_000,
        population_year=2023,
        figures_source="demo figures",
    )
    sao.networks.add(c40)
    zurich = CityFactory(
        name="Zürich", country=swiss, status=City.Status.ENGAGED, population=421_000
    )
    freetown = CityFactory(name="Freetown", country=sierra, population=1_200_000)
    CityFactory(name="Santos", country=brazil, status=City.Status.PROSPECT)
    nunes = MayoralTermFactory(city=sao, mayor=MayorFactory(full_name="Ricardo Nunes")).mayor
    aki = MayoralTermFactory(
        city=freetown, mayor=MayorFactory(full_name="Yvonne Aki-Sawyerr")
    ).mayor
    mauch = MayoralTermFactory(city=zurich, mayor=MayorFactory(full_name="Corine Mauch")).mayor
    start = today - datetime.timedelta(days=500)
    BoardSeatFactory(
        mayor=aki,
        role=BoardSeat.Role.CO_CHAIR,
        start_date=start,
        end_date=today + datetime.timedelta(days=40),
    )
    BoardSeatFactory(mayor=nunes, start_date=start, end_date=today + datetime.timedelta(days=300))
    BoardSeatFactory(mayor=mauch, start_date=start, end_date=today + datetime.timedelta(days=600))
    ContactFactory(
        first_name="Mariana", last_name="Araújo", city=sao, is_focal_point=True, languages="pt, en"
    )
    return sao


def test_find_a_city_without_accents_open_it_and_add_a_contact(page, login, screenshot):
    sao = _world()
    login(PROGRAM_STAFF)

    page.goto("/cities/")
    assert page.locator("[data-testid=city-table] tbody tr").count() == 4
    screenshot("cities-list")

    page.fill("#id_q", "sao paulo")
    page.press("#id_q", "Enter")
    page.wait_for_url("**/cities/?*q=sao+paulo*")
    rows = page.locator("[data-testid=city-table] tbody tr")
    assert rows.count() == 1
    assert "1 result" in page.locator("[data-testid=result-count]").inner_text()

    rows.get_by_role("link", name="São Paulo").click()
    page.wait_for_url(f"**/cities/{sao.pk}/")
    assert "São Paulo" in page.locator("h1").inner_text()
    assert "Ricardo Nunes" in page.locator("[data-testid=mayor-card]").inner_text()
    screenshot("city-page")

    page.locator("main").get_by_role("link", name="Add contact").click()
    page.wait_for_url("**/cities/contacts/new/?city=*")
    assert "São Paulo" in page.locator("#div_id_city").inner_text()
    page.fill("#id_first_name", "João")
    page.fill("#id_last_name", "Conceição")
    page.fill("#id_title", "Migration advisor")
    page.fill("#id_email", "Joao.Conceicao@SaoPaulo.example.org")
    page.fill("#id_languages", "pt, es")
    page.check("#id_consent_to_outreach")
    page.locator("main button[type=submit]").click()

    page.wait_for_url(f"**/cities/{sao.pk}/")
    assert "João Conceição was created." in page.locator(".alert").inner_text()
    contacts = page.locator("[data-testid=contacts-card]").inner_text()
    assert "João Conceição" in contacts and "joao.conceicao@saopaulo.example.org" in contacts
    contact = Contact.objects.get(email="joao.conceicao@saopaulo.example.org")
    assert contact.city == sao and contact.languages == "pt, es"
    screenshot("city-page-after-contact")


def test_leadership_board_in_a_real_browser(page, login, screenshot):
    _world()
    login(PROGRAM_STAFF)
    page.goto("/cities/board/")
    rows = page.locator("[data-testid=board-table] tbody tr")
    assert rows.count() == 3
    assert "Yvonne Aki-Sawyerr" in rows.nth(0).inner_text()  # the co-chair first
    assert "ends in 40 days" in rows.nth(0).inner_text()
    assert page.locator("tr.ending-soon").count() == 1
    screenshot("board")

    # Renew the co-chair's seat: the form proposes the day after the current seat ends.
    seat = BoardSeat.objects.get(role=BoardSeat.Role.CO_CHAIR)
    rows.nth(0).get_by_role("link", name="Renew").click()
    page.wait_for_url("**/cities/board/seats/new/?mayor=*")
    assert "Yvonne Aki-Sawyerr" in page.locator("#div_id_mayor").inner_text()
    next_day = seat.end_date + datetime.timedelta(days=1)
    assert page.input_value("#id_start_date") == next_day.isoformat()
    page.select_option("#id_role", "co_chair")
    screenshot("board-seat-form")
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"**/cities/board/?on={next_day.isoformat()}")
    renewed = page.locator("[data-testid=board-table] tbody tr").nth(0).inner_text()
    assert "Yvonne Aki-Sawyerr" in renewed and next_day.strftime("%-d %b %Y") in renewed
    assert BoardSeat.objects.filter(mayor=seat.mayor).count() == 2

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/cities/")
    screenshot("cities-list-phone")
    page.goto("/cities/board/")
    # On a phone the seat's end date stays on screen without scrolling sideways.
    until = page.locator("[data-testid=seat-until]").first
    box = until.bounding_box()
    assert box["x"] + box["width"] <= 390
    screenshot("board-phone")


def test_create_a_city_with_pickers_and_a_clear_duplicate_message(page, login, screenshot):
    colombia = CountryFactory(code="CO", name="Colombia", region="latin_america")
    CityFactory(name="Medellín", country=colombia)
    CityNetworkFactory(name="United Cities and Local Governments", short_name="UCLG")
    login(PROGRAM_STAFF)

    page.goto("/cities/new/")
    page.fill("#id_name", "medellin")
    page.click("#id_country-ts-control")
    page.keyboard.type("colomb")
    page.locator(".ts-dropdown .option", has_text="Colombia").click()
    page.click("#id_networks-ts-control")
    page.keyboard.type("UCLG")
    page.locator(".ts-dropdown .option", has_text="UCLG").click()
    page.fill("#id_population", "2600000")
    page.fill("#id_migrant_population", "90000")
    screenshot("city-form-filled")
    page.locator("main button[type=submit]").click()

    # Typed without the accent, the name still matches the city already recorded.
    assert "Medellín (Colombia) is already recorded" in page.locator("#div_id_name").inner_text()
    screenshot("city-form-duplicate")

    page.fill("#id_name", "Cali")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/cities/*/")
    assert "Cali" in page.locator("h1").inner_text()
    assert "UCLG" in page.locator("main").inner_text()
    cali = City.objects.get(name="Cali")
    assert cali.country == colombia and cali.migrant_population == 90000
