"""Pages for engagements, TA requests, events, participations and policy work."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from cities.models import City, Contact
from crm.core.generic import (
    ModelPermissionMixin,
    PickerView,
    RecordCreateView,
    RecordDeleteView,
    RecordDetailView,
    RecordListView,
    RecordUpdateView,
)
from pledges.models import Pledge

from . import calendar, selectors, services
from .filters import (
    ContributionFilter,
    EngagementFilter,
    EventFilter,
    InboxFilter,
    OutcomeFilter,
    ParticipationFilter,
    TARequestFilter,
)
from .forms import (
    ContributionForm,
    EmailUploadForm,
    EngagementForm,
    EventForm,
    InboxAcceptForm,
    InboxPersonForm,
    OutcomeForm,
    ParticipationForm,
    TARequestForm,
    TATransitionForm,
)
from .models import (
    EmailAttachment,
    Engagement,
    Event,
    InboundEmail,
    InboxState,
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
    queryset = Engagement.objects.select_related("owner", "email").prefetch_related(
        "cities", "contacts__city", "email__attachments"
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


# --- Emails: the inbox review, dropped files, attachments -----------------------------------


class InboxListView(RecordListView):
    """Emails from the CRM mailbox: by default those waiting for a reviewer."""

    model = InboundEmail
    filterset_class = InboxFilter
    template_name = "engagements/inbox_list.html"
    queryset = InboundEmail.objects.select_related("sender_user", "engagement", "reviewed_by")

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if "status" not in self.request.GET:
            kwargs["data"] = {**self.request.GET.dict(), "status": InboundEmail.Status.REVIEW}
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["state"] = InboxState.objects.filter(name="default").first()
        context["mailbox_configured"] = bool(settings.CRM_INBOX_HOST)
        return context


class InboxReviewView(ModelPermissionMixin, DetailView):
    """One waiting email: log it with the people and cities a reviewer picks, add a sender as a
    person first, or discard it."""

    model = InboundEmail
    template_name = "engagements/inbox_review.html"
    queryset = InboundEmail.objects.select_related("sender_user", "engagement", "reviewed_by")

    def get_form(self):
        if self.request.method == "POST":
            return InboxAcceptForm(self.request.POST)
        email = self.object
        known = selectors.email_people(email)
        cities = {p.city_id for p in known if p.city_id}
        return InboxAcceptForm(
            initial={
                "owner": (email.sender_user or self.request.user).pk,
                "contacts": [p.pk for p in known],
                "cities": sorted(cities),
            }
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.get_form())
        context["addresses"] = selectors.email_addresses(self.object)
        context["person_form"] = kwargs.get("person_form") or InboxPersonForm()
        return context

    def post(self, request, pk):
        self.object = self.get_object()
        if not request.user.has_perm("engagements.add_engagement"):
            raise PermissionDenied
        form = self.get_form()
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            engagement = services.inbound_email_accept(
                email=self.object,
                by=request.user,
                owner=form.cleaned_data["owner"],
                people=form.cleaned_data["contacts"],
                cities=form.cleaned_data["cities"],
            )
        except services.InboxRefused as refusal:
            messages.error(request, str(refusal))
            return HttpResponseRedirect(reverse("engagements:inbox_review", args=[pk]))
        messages.success(request, f"Email logged: {engagement.summary}")
        return HttpResponseRedirect(engagement.get_absolute_url())


class InboxAddPersonView(ModelPermissionMixin, View):
    """Add a sender or recipient the CRM does not know as a person, back on the review page."""

    model = Contact
    permission_action = "add"

    def post(self, request, pk):
        email = get_object_or_404(InboundEmail, pk=pk)
        form = InboxPersonForm(request.POST)
        if form.is_valid():
            person = form.save()
            messages.success(request, f"{person} was added; they are now among the people below.")
        else:
            errors = " ".join(" ".join(e) for e in form.errors.values())
            messages.error(request, f"The person was not added: {errors}")
        return HttpResponseRedirect(reverse("engagements:inbox_review", args=[email.pk]))


class InboxDiscardView(ModelPermissionMixin, View):
    model = Engagement
    permission_action = "add"

    def post(self, request, pk):
        email = get_object_or_404(InboundEmail, pk=pk)
        try:
            services.inbound_email_discard(email=email, by=request.user)
        except services.InboxRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"“{email}” was discarded; nothing was logged.")
        return HttpResponseRedirect(reverse("engagements:inbox"))


class EmailUploadView(ModelPermissionMixin, View):
    """An .eml or .msg dropped onto a city's or a person's page, logged like a mailbox email."""

    model = Engagement
    permission_action = "add"

    def post(self, request):
        form = EmailUploadForm(request.POST, request.FILES)
        back = next_url(request, reverse("engagements:engagement_list"))
        if not form.is_valid():
            errors = " ".join(" ".join(e) for e in form.errors.values())
            messages.error(request, f"Nothing was logged: {errors}")
            return HttpResponseRedirect(back)
        try:
            email, created = services.inbound_email_upload(
                upload=form.cleaned_data["file"],
                by=request.user,
                city=form.cleaned_data["city"],
                person=form.cleaned_data["contact"],
            )
        except services.InboxRefused as refusal:
            messages.error(request, str(refusal))
            return HttpResponseRedirect(back)
        if not created:
            messages.info(request, f"“{email}” was already in the CRM; nothing was added.")
            return HttpResponseRedirect(email.get_absolute_url())
        if email.engagement_id:
            messages.success(request, f"Email logged: {email.engagement.summary}")
        else:
            messages.warning(
                request,
                f"“{email}” waits for review: {email.get_reason_display().lower()}.",
            )
        return HttpResponseRedirect(email.get_absolute_url())


class EmailAttachmentView(ModelPermissionMixin, View):
    """Download a file that came with an email (never served from a public folder)."""

    model = Engagement

    def get(self, request, pk):
        attachment = get_object_or_404(EmailAttachment, pk=pk)
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type or "application/octet-stream",
        )


# --- "Add to calendar" (.ics downloads) -----------------------------------------------------


class EventCalendarView(ModelPermissionMixin, View):
    """An event's days (and its registration deadline) as an .ics file."""

    model = Event

    def get(self, request, pk):
        event = get_object_or_404(Event, pk=pk)
        ics = calendar.new_calendar(event.name)
        for item in calendar.event_items(event):
            ics.add_component(item)
        return calendar.ics_response(ics, f"event-{event.pk}.ics")


class FollowUpCalendarView(ModelPermissionMixin, View):
    """An engagement's follow-up day as an .ics file."""

    model = Engagement

    def get(self, request, pk):
        engagement = get_object_or_404(
            Engagement.objects.prefetch_related("cities"),
            pk=pk,
            follow_up_date__isnull=False,
        )
        ics = calendar.new_calendar(f"Follow up: {engagement.summary}")
        ics.add_component(calendar.follow_up_item(engagement))
        return calendar.ics_response(ics, f"follow-up-{engagement.pk}.ics")
