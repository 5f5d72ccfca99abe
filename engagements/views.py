"""Pages for engagements, TA requests, events, participations and policy work."""

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterView

from cities.models import City
from crm.generic import (
    ModelPermissionMixin,
    PickerView,
    RecordCreateView,
    RecordDeleteView,
    RecordDetailView,
    RecordListView,
    RecordUpdateView,
)
from pledges.models import Pledge

from . import selectors
from .filters import (
    ContributionFilter,
    EngagementFilter,
    EventFilter,
    OutcomeFilter,
    ParticipationFilter,
    TARequestFilter,
)
from .forms import (
    ContributionForm,
    EngagementForm,
    EventForm,
    OutcomeForm,
    ParticipationForm,
    TARequestForm,
    TATransitionForm,
)
from .models import (
    Engagement,
    Event,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    TARequest,
)
from .services import TransitionRefused, engagement_follow_up_done, ta_request_transition


def next_url(request, default):
    """Where to go after a form: the ``next`` the page passed, if it stays on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def object_from_query(request, model, param):
    """The record whose pk is ``?<param>=`` (pre-filling a form), or None if absent or bad."""
    value = request.GET.get(param, "")
    if not value.isdigit():
        return None
    return model.objects.filter(pk=value).first()


class NextMixin:
    """Forms started from another page go back there when saved: to ``?next=`` when given,
    else to the record named by a pre-fill parameter (``?city=``, ``?event=``) listed in
    ``return_to``, else to the saved record."""

    return_to = ()

    def get_success_url(self):
        default = super().get_success_url()
        for param in self.return_to:
            model = self.model._meta.get_field(param).related_model
            record = object_from_query(self.request, model, param)
            if record is not None:
                default = record.get_absolute_url()
                break
        return next_url(self.request, default)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next"] = next_url(self.request, "")
        return context


# --- Engagements ------------------------------------------------------------------------------


class EngagementListView(RecordListView):
    model = Engagement
    filterset_class = EngagementFilter
    queryset = Engagement.objects.select_related("owner").prefetch_related("cities")


class EngagementDetailView(RecordDetailView):
    model = Engagement
    queryset = Engagement.objects.select_related("owner").prefetch_related(
        "cities", "contacts__city"
    )


class EngagementCreateView(NextMixin, RecordCreateView):
    """Log an engagement: today, by me, and the city when started from a city page."""

    model = Engagement
    form_class = EngagementForm
    template_name = "engagements/engagement_form.html"
    success_message = "Engagement logged: %(object)s"

    def get_initial(self):
        initial = {"owner": self.request.user.pk}
        city = object_from_query(self.request, City, "city")
        if city is not None:
            initial["cities"] = [city.pk]
        return initial

    def get_success_url(self):
        city = object_from_query(self.request, City, "city")
        default = city.get_absolute_url() if city else self.object.get_absolute_url()
        return next_url(self.request, default)


class EngagementUpdateView(NextMixin, RecordUpdateView):
    model = Engagement
    form_class = EngagementForm
    template_name = "engagements/engagement_form.html"


class EngagementDeleteView(RecordDeleteView):
    model = Engagement
    success_url = reverse_lazy("engagements:engagement_list")


class FollowUpDoneView(ModelPermissionMixin, View):
    """One click from "My work": the follow-up is done."""

    model = Engagement
    permission_action = "change"

    def post(self, request, pk):
        engagement = get_object_or_404(Engagement, pk=pk)
        engagement_follow_up_done(engagement=engagement, by=request.user)
        messages.success(request, f"Follow-up done: {engagement.summary}")
        return HttpResponseRedirect(next_url(request, reverse("engagements:my_work")))


class MyWorkView(TemplateView):
    """The logged-in user's to-do: follow-ups, open TA requests, upcoming events."""

    template_name = "engagements/my_work.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["work"] = selectors.my_work(self.request.user)
        return context


# --- Technical-assistance requests ------------------------------------------------------------

TA_LIST_QUERYSET = TARequest.objects.select_related("city__country", "owner", "requested_by")

# The button that moves a request to each status.
TRANSITION_ACTIONS = {
    TARequest.Status.ACCEPTED: ("Accept", "btn-primary"),
    TARequest.Status.IN_PROGRESS: ("Start work", "btn-primary"),
    TARequest.Status.DELIVERED: ("Mark delivered", "btn-success"),
    TARequest.Status.CLOSED: ("Close", "btn-secondary"),
    TARequest.Status.DECLINED: ("Decline", "btn-outline-danger"),
}


def transition_buttons(ta_request):
    return [
        {
            "status": status,
            "label": TRANSITION_ACTIONS[status][0],
            "css": TRANSITION_ACTIONS[status][1],
        }
        for status in ta_request.allowed_transitions
    ]


class TAListView(RecordListView):
    model = TARequest
    filterset_class = TARequestFilter
    queryset = TA_LIST_QUERYSET
    template_name = "engagements/ta_list.html"


class TABoardView(ModelPermissionMixin, FilterView):
    """The open work at a glance: one column per status, the same filters as the list.

    Each column shows its most urgent cards; the rest are one click away in the list.
    """

    model = TARequest
    filterset_class = TARequestFilter
    queryset = TA_LIST_QUERYSET
    template_name = "engagements/ta_board.html"
    column_limit = 30

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filtered = self.object_list
        counts = dict(
            filtered.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        columns = []
        for status in TARequest.Status:
            cards = list(
                filtered.filter(status=status).order_by("due_date", "-received_on", "pk")[
                    : self.column_limit
                ]
            )
            for card in cards:
                card.buttons = transition_buttons(card)
            count = counts.get(status.value, 0)
            columns.append(
                {"status": status, "cards": cards, "count": count, "more": count - len(cards)}
            )
        context["columns"] = columns
        return context


class TADetailView(RecordDetailView):
    model = TARequest
    queryset = TA_LIST_QUERYSET
    template_name = "engagements/ta_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["buttons"] = transition_buttons(self.object)
        context["transitions"] = self.object.transitions.select_related("by")
        context["transition_form"] = TATransitionForm()
        return context


class TACreateView(NextMixin, RecordCreateView):
    model = TARequest
    form_class = TARequestForm
    return_to = ("city",)

    def get_initial(self):
        initial = {"owner": self.request.user.pk}
        city = object_from_query(self.request, City, "city")
        if city is not None:
            initial["city"] = city.pk
        return initial


class TAUpdateView(NextMixin, RecordUpdateView):
    model = TARequest
    form_class = TARequestForm


class TATransitionView(ModelPermissionMixin, View):
    """POST only: move a request along its workflow (engagements.services)."""

    model = TARequest
    permission_action = "change"

    def post(self, request, pk):
        ta_request = get_object_or_404(TARequest, pk=pk)
        form = TATransitionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That workflow step was not understood. Nothing was changed.")
        else:
            try:
                transition = ta_request_transition(
                    ta_request=ta_request,
                    to_status=form.cleaned_data["to_status"],
                    expected_status=form.cleaned_data["expected_status"],
                    comment=form.cleaned_data["comment"].strip(),
                    by=request.user,
                )
            except TransitionRefused as refusal:
                messages.error(request, str(refusal))
            else:
                messages.success(
                    request, f"“{ta_request.topic}” is now {transition.get_to_status_display()}."
                )
        return HttpResponseRedirect(next_url(request, ta_request.get_absolute_url()))


# --- Events and participations ----------------------------------------------------------------


class EventListView(RecordListView):
    model = Event
    filterset_class = EventFilter
    queryset = Event.objects.annotate(
        participation_count=Count("participations", distinct=True),
        city_count=Count("participations__city", distinct=True),
    )


class EventDetailView(RecordDetailView):
    model = Event

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["delegation"] = self.object.participations.select_related(
            "city__country", "mayor", "contact", "owner"
        ).order_by("city__name", "role", "pk")
        context["contributions"] = self.object.contributions.annotate(
            city_count=Count("cities")
        ).order_by("-date")
        context["pledges"] = Pledge.objects.filter(event=self.object).select_related("city")
        return context


class EventCreateView(RecordCreateView):
    model = Event
    form_class = EventForm


class EventUpdateView(RecordUpdateView):
    model = Event
    form_class = EventForm


class EventPickerView(PickerView):
    model = Event

    def get_queryset(self):
        return Event.objects.order_by("-start_date", "pk")

    def filter_queryset(self, queryset, query):
        return queryset.filter(Q(name__icontains=query) | Q(place__icontains=query))

    def label(self, event):
        return f"{event.name} ({event.start_date:%b %Y})"


class ParticipationListView(RecordListView):
    model = Participation
    filterset_class = ParticipationFilter
    queryset = Participation.objects.select_related(
        "event", "city__country", "mayor", "contact", "owner"
    ).order_by("-event__start_date", "city__name", "pk")


class ParticipationCreateView(NextMixin, RecordCreateView):
    """Add a city to an event's delegation, from the event page or the city page."""

    model = Participation
    form_class = ParticipationForm
    return_to = ("event", "city")

    def get_initial(self):
        initial = {"owner": self.request.user.pk}
        for param, model in (("event", Event), ("city", City)):
            record = object_from_query(self.request, model, param)
            if record is not None:
                initial[param] = record.pk
        return initial


class ParticipationUpdateView(NextMixin, RecordUpdateView):
    model = Participation
    form_class = ParticipationForm


# --- Policy contributions and outcomes --------------------------------------------------------


class ContributionListView(RecordListView):
    model = PolicyContribution
    filterset_class = ContributionFilter
    queryset = PolicyContribution.objects.select_related("event").annotate(
        city_count=Count("cities", distinct=True), outcome_count=Count("outcomes", distinct=True)
    )
    template_name = "engagements/contribution_list.html"


class ContributionDetailView(RecordDetailView):
    model = PolicyContribution
    template_name = "engagements/contribution_detail.html"
    queryset = PolicyContribution.objects.select_related("event").prefetch_related(
        Prefetch("cities", queryset=City.objects.select_related("country")), "outcomes"
    )


class ContributionCreateView(RecordCreateView):
    model = PolicyContribution
    form_class = ContributionForm

    def get_initial(self):
        initial = {}
        event = object_from_query(self.request, Event, "event")
        if event is not None:
            initial.update(event=event.pk, process=event.process)
        return initial


class ContributionUpdateView(RecordUpdateView):
    model = PolicyContribution
    form_class = ContributionForm


class ContributionPickerView(PickerView):
    model = PolicyContribution

    def get_queryset(self):
        return PolicyContribution.objects.order_by("-date", "-pk")

    def filter_queryset(self, queryset, query):
        return queryset.filter(title__icontains=query)

    def label(self, contribution):
        return f"{contribution.title} ({contribution.date:%b %Y})"


class OutcomeListView(RecordListView):
    model = PolicyOutcome
    filterset_class = OutcomeFilter
    queryset = PolicyOutcome.objects.annotate(contribution_count=Count("contributions"))
    template_name = "engagements/outcome_list.html"


class OutcomeDetailView(RecordDetailView):
    model = PolicyOutcome
    template_name = "engagements/outcome_detail.html"
    queryset = PolicyOutcome.objects.prefetch_related(
        Prefetch(
            "contributions",
            queryset=PolicyContribution.objects.annotate(city_count=Count("cities")),
        )
    )


class OutcomeCreateView(RecordCreateView):
    model = PolicyOutcome
    form_class = OutcomeForm


class OutcomeUpdateView(RecordUpdateView):
    model = PolicyOutcome
    form_class = OutcomeForm
