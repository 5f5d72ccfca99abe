from django.urls import path

from . import views

app_name = "cities"

urlpatterns = [
    path("pick/cities/", views.CityPickerView.as_view(), name="city_picker"),
    path("pick/contacts/", views.ContactPickerView.as_view(), name="contact_picker"),
    path("pick/mayors/", views.MayorPickerView.as_view(), name="mayor_picker"),
]
