from django.urls import path

from . import views

# Included by crm/urls.py, so every name here is in the ``crm:`` namespace.
urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
    path("search/suggest/", views.SuggestView.as_view(), name="search_suggest"),
]
