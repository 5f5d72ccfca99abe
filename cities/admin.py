from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import BoardSeat, City, CityNetwork, Contact, Country, Mayor, MayoralTerm, Tag


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "region"]
    list_filter = ["region"]
    search_fields = ["name", "code"]


@admin.register(CityNetwork)
class CityNetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "website"]
    search_fields = ["name", "short_name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class MayoralTermInline(admin.TabularInline):
    model = MayoralTerm
    extra = 0
    autocomplete_fields = ["mayor", "city"]


@admin.register(City)
class CityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "country", "status", "population"]
    list_filter = ["status", "country__region", "networks"]
    list_select_related = ["country"]
    search_fields = ["name", "search_text"]
    autocomplete_fields = ["country"]
    filter_horizontal = ["networks", "tags"]
    inlines = [MayoralTermInline]


@admin.register(Mayor)
class MayorAdmin(SimpleHistoryAdmin):
    list_display = ["full_name", "email"]
    search_fields = ["full_name", "name_key"]
    inlines = [MayoralTermInline]


@admin.register(MayoralTerm)
class MayoralTermAdmin(SimpleHistoryAdmin):
    list_display = ["mayor", "city", "start_date", "end_date"]
    list_select_related = ["mayor", "city"]
    autocomplete_fields = ["mayor", "city"]
    search_fields = ["mayor__full_name", "city__name"]


@admin.register(BoardSeat)
class BoardSeatAdmin(SimpleHistoryAdmin):
    list_display = ["mayor", "role", "start_date", "end_date"]
    list_filter = ["role"]
    list_select_related = ["mayor"]
    autocomplete_fields = ["mayor"]
    date_hierarchy = "start_date"


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["full_name", "email", "city", "organisation", "is_focal_point"]
    list_filter = ["is_focal_point", "consent_to_outreach", "city__country__region"]
    list_select_related = ["city"]
    search_fields = ["first_name", "last_name", "name_key", "email", "organisation"]
    autocomplete_fields = ["city"]
