from django.urls import path

from . import views

app_name = "cities"

urlpatterns = [
    # JSON for the searchable pickers other apps' forms use.
    path("pick/cities/", views.CityPickerView.as_view(), name="city_picker"),
    path("pick/contacts/", views.ContactPickerView.as_view(), name="contact_picker"),
    path("pick/mayors/", views.MayorPickerView.as_view(), name="mayor_picker"),
    path("", views.CityListView.as_view(), name="city_list"),
    path("new/", views.CityCreateView.as_view(), name="city_create"),
    path("<int:pk>/", views.CityDetailView.as_view(), name="city_detail"),
    path("<int:pk>/edit/", views.CityUpdateView.as_view(), name="city_update"),
    path("<int:pk>/delete/", views.CityDeleteView.as_view(), name="city_delete"),
    path("contacts/", views.ContactListView.as_view(), name="contact_list"),
    path("contacts/new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.ContactUpdateView.as_view(), name="contact_update"),
    path("contacts/<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
    path("mayors/", views.MayorListView.as_view(), name="mayor_list"),
    path("mayors/new/", views.MayorCreateView.as_view(), name="mayor_create"),
    path("mayors/<int:pk>/", views.MayorDetailView.as_view(), name="mayor_detail"),
    path("mayors/<int:pk>/edit/", views.MayorUpdateView.as_view(), name="mayor_update"),
    path("mayors/<int:pk>/delete/", views.MayorDeleteView.as_view(), name="mayor_delete"),
    path("terms/new/", views.MayoralTermStartView.as_view(), name="term_create"),
    path("terms/<int:pk>/edit/", views.MayoralTermUpdateView.as_view(), name="term_update"),
    path("terms/<int:pk>/end/", views.MayoralTermEndView.as_view(), name="term_end"),
    path("terms/<int:pk>/delete/", views.MayoralTermDeleteView.as_view(), name="term_delete"),
    path("board/", views.BoardView.as_view(), name="board"),
    path("board/seats/new/", views.BoardSeatCreateView.as_view(), name="seat_create"),
    path("board/seats/<int:pk>/edit/", views.BoardSeatUpdateView.as_view(), name="seat_update"),
    path("board/seats/<int:pk>/delete/", views.BoardSeatDeleteView.as_view(), name="seat_delete"),
]
