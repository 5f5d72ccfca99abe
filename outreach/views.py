from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import CreateView, DetailView, TemplateView, UpdateView
from django_filters.views import FilterView

from crm.core.generic import PAGE_SIZES, RecordListView
from engagements.calendar import ics_response

from . import selectors, services
from .filters import (
    AudienceFilter,
    CampaignFilter,
    FailedReminderFilter,
    NotificationFilter,
    RecipientFilter,
)
from .forms import CampaignForm, NotificationPreferenceForm
from .models import CalendarFeed, Campaign, CampaignRecipient, Reminder
from .tasks import enqueue_on_commit, send_campaign_test

MANAGE_CAMPAIGNS = "outreach.add_campaign"
REVIEW_FAILURES = "outreach.change_reminder"


# --- Notifications: every user sees only their own ------------------------------------------


class NotificationListView(FilterView):
    template_name = "outreach/notification_list.html"
    filterset_class = NotificationFilter
    paginate_by = PAGE_SIZES[0]

    def get_queryset(self):
        return Reminder.objects.filter(recipient=self.request.user).order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["unread_count"] = Reminder.objects.filter(
            recipient=self.request.user, read_at__isnull=True
        ).count()
        return context


class NotificationOpenView(View):
    """Follow a notification to its record, marking it read on the way."""

    def get(self, request, pk):
        reminder = get_object_or_404(Reminder, pk=pk, recipient=request.user)
        services.notifications_mark_read(user=request.user, reminder_ids=[reminder.pk])
        return HttpResponseRedirect(reminder.link or reverse("outreach:notifications"))


class NotificationMarkReadView(View):
    """POST ``reminder`` to mark one notification read, or nothing to mark them all."""

    def post(self, request):
        ids = request.POST.getlist("reminder")
        try:
            ids = [int(value) for value in ids] if ids else None
        except ValueError:
            messages.error(request, "Nothing was changed: the notification was not recognised.")
            return HttpResponseRedirect(reverse("outreach:notifications"))
        count = services.notifications_mark_read(user=request.user, reminder_ids=ids)
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            next_url = reverse("outreach:notifications")
        return HttpResponseRedirect(next_url)


class UnreadBadgeView(View):
    """The bell's unread count, fetched by htmx so other pages pay no query for it."""

    def get(self, request):
        count = Reminder.objects.filter(recipient=request.user, read_at__isnull=True).count()
        return render(request, "outreach/_unread_badge.html", {"unread_count": count})


class PreferenceView(SuccessMessageMixin, UpdateView):
    form_class = NotificationPreferenceForm
    template_name = "outreach/preferences.html"
    success_message = "Your notification preferences were saved."

    def get_object(self, queryset=None):
        return services.preference_for(self.request.user)

    def get_success_url(self):
        return reverse("outreach:preferences")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["calendar_feed"] = CalendarFeed.objects.filter(user=self.request.user).first()
        context["can_add_board_seats"] = selectors.can_see_board_seats_in_feed(self.request.user)
        return context


# --- Calendar feeds -----------------------------------------------------------------------


class CalendarFeedActionView(View):
    """POST ``action``: create, regenerate or revoke my feed, or set what it shows."""

    def post(self, request):
        action = request.POST.get("action")
        user = request.user
        if action == "create":
            services.calendar_feed_create(user=user)
            messages.success(
                request, "Your calendar feed is ready: subscribe to the address below."
            )
        elif action == "regenerate":
            services.calendar_feed_regenerate(user=user)
            messages.success(
                request,
                "Your calendar feed has a new address; the old one no longer works. "
                "Subscribe again with the address below.",
            )
        elif action == "revoke":
            if services.calendar_feed_revoke(user=user):
                messages.success(
                    request, "Your calendar feed is turned off; its address no longer works."
                )
        elif action == "options":
            feed = CalendarFeed.objects.filter(user=user).first()
            if feed is not None:
                feed.include_board_seats = bool(request.POST.get("include_board_seats"))
                feed.save(update_fields=["include_board_seats"])
                messages.success(request, "Your calendar feed settings were saved.")
        else:
            messages.error(request, "Nothing was changed: the action was not recognised.")
        return HttpResponseRedirect(reverse("outreach:preferences") + "#calendar")


@method_decorator(login_not_required, name="dispatch")
class CalendarFeedView(View):
    """The feed itself, for calendar apps: no session, the token in the address is the key, and
    it opens this feed only. An unknown, replaced or revoked token answers 404."""

    def get(self, request, token):
        feed = (
            CalendarFeed.objects.select_related("user")
            .filter(token=token, user__is_active=True)
            .first()
        )
        if feed is None:
            raise Http404("No such calendar feed.")
        return ics_response(selectors.calendar_feed(feed), "mmc-crm.ics", download=False)


# --- Failed deliveries (managers) ---------------------------------------------------------


class FailedDeliveryListView(PermissionRequiredMixin, FilterView):
    """Reminders and campaign emails that failed for good, so someone fixes the address."""

    permission_required = REVIEW_FAILURES
    raise_exception = True
    template_name = "outreach/failed_list.html"
    paginate_by = PAGE_SIZES[0]

    @property
    def showing_campaigns(self):
        return self.request.GET.get("kind") == "campaign"

    def get_filterset_class(self):
        return RecipientFilter if self.showing_campaigns else FailedReminderFilter

    def get_queryset(self):
        if self.showing_campaigns:
            return (
                CampaignRecipient.objects.filter(status=CampaignRecipient.Status.FAILED)
                .select_related("campaign", "contact")
                .order_by("-pk")
            )
        return (
            Reminder.objects.filter(status=Reminder.Status.FAILED)
            .select_related("recipient")
            .order_by("-created_at", "-pk")
        )

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if self.showing_campaigns:
            kwargs["data"] = None  # the status is fixed: failed
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["showing_campaigns"] = self.showing_campaigns
        return context


class ReminderRetryView(PermissionRequiredMixin, View):
    permission_required = REVIEW_FAILURES
    raise_exception = True

    def post(self, request, pk):
        reminder = get_object_or_404(Reminder, pk=pk)
        with transaction.atomic():
            retried = services.reminder_retry(reminder=reminder)
        if retried:
            messages.success(request, f"“{reminder}” will be emailed again.")
        else:
            messages.info(request, f"“{reminder}” is not failed any more; nothing to retry.")
        return HttpResponseRedirect(reverse("outreach:failed_deliveries"))


# --- Campaigns (managers) -----------------------------------------------------------------


class CampaignPermissionMixin(PermissionRequiredMixin):
    permission_required = MANAGE_CAMPAIGNS
    raise_exception = True


class CampaignListView(RecordListView):
    model = Campaign
    filterset_class = CampaignFilter
    permission_required = MANAGE_CAMPAIGNS
    template_name = "outreach/campaign_list.html"

    def get_queryset(self):
        return Campaign.objects.select_related("created_by")


class CampaignFormMixin(CampaignPermissionMixin):
    """The campaign form and its audience filter, posted together."""

    model = Campaign
    form_class = CampaignForm
    template_name = "outreach/campaign_form.html"

    def get_audience(self):
        if self.request.method == "POST":
            data = self.request.POST
        else:
            data = services.campaign_audience_data(self.object) if self.object else None
        return AudienceFilter(data=data, queryset=services.receivable_contacts())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("audience", self.get_audience())
        return context

    def form_valid(self, form):
        audience = self.get_audience()
        if not audience.form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, audience=audience))
        form.instance.audience = {
            name: [value for value in self.request.POST.getlist(name) if value]
            for name in AudienceFilter.parameter_names()
            if any(self.request.POST.getlist(name))
        }
        response = super().form_valid(form)
        messages.success(self.request, f"Campaign “{self.object}” was saved.")
        return response


class CampaignCreateView(CampaignFormMixin, CreateView):
    def get_audience(self):
        self.object = None
        return super().get_audience()

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        return super().form_valid(form)


class CampaignUpdateView(CampaignFormMixin, UpdateView):
    def get_queryset(self):
        return Campaign.objects.filter(status=Campaign.Status.DRAFT)


class CampaignDetailView(CampaignPermissionMixin, DetailView):
    model = Campaign
    template_name = "outreach/campaign_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        context["emails_per_minute"] = settings.CAMPAIGN_EMAILS_PER_MINUTE
        if campaign.is_draft:
            audience = services.campaign_audience(campaign)
            context["audience_count"] = audience.count()
            contact, subject, body = services.campaign_preview(campaign)
            context["preview"] = {"contact": contact, "subject": subject, "body": body}
            audience_filter = AudienceFilter(
                data=services.campaign_audience_data(campaign), queryset=audience
            )
            context["audience_filter"] = audience_filter
            context["audience_summary"] = _audience_summary(audience_filter)
        else:
            context["status_counts"] = services.campaign_status_counts(campaign)
            recipients = RecipientFilter(
                data=self.request.GET,
                queryset=campaign.recipients.select_related("contact__city").order_by("pk"),
            )
            context["recipient_filter"] = recipients
            context["page_obj"] = Paginator(recipients.qs, PAGE_SIZES[0]).get_page(
                self.request.GET.get("page")
            )
        return context


def _audience_summary(audience_filter):
    """(label, chosen values) of each filter a campaign uses, as a person reads them."""
    form = audience_filter.form
    if not form.is_valid():
        return []
    summary = []
    for name, value in form.cleaned_data.items():
        if value in (None, "", [], ()):
            continue
        field = form.fields[name]
        values = value if isinstance(value, list | tuple) else [value]
        # A model choice is already its object; plain choices map a code to its label.
        is_model = isinstance(field, forms.ModelChoiceField)
        labels = {} if is_model else dict(getattr(field, "choices", []) or [])
        shown = []
        for item in values:
            if isinstance(item, bool):
                shown.append("yes" if item else "no")
            else:
                shown.append(str(labels.get(item, item)))
        summary.append((field.label or name, ", ".join(shown)))
    return summary


class CampaignTestView(CampaignPermissionMixin, View):
    def post(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not request.user.email:
            messages.error(request, "Your account has no email address to send the test to.")
        else:
            with transaction.atomic():
                enqueue_on_commit(send_campaign_test, campaign.pk, request.user.pk)
            messages.success(request, f"A test email is on its way to {request.user.email}.")
        return HttpResponseRedirect(campaign.get_absolute_url())


class CampaignSendView(CampaignPermissionMixin, View):
    def post(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            campaign = services.campaign_send(campaign=campaign)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            total = campaign.recipients.count()
            messages.success(
                request,
                f"“{campaign}” is on its way to {total} recipient{'s' if total != 1 else ''}, "
                f"at most {settings.CAMPAIGN_EMAILS_PER_MINUTE} a minute. Progress shows below.",
            )
        return HttpResponseRedirect(campaign.get_absolute_url())


# --- Unsubscribe (public: the signed token is the authority) ------------------------------


@method_decorator([login_not_required, csrf_exempt], name="dispatch")
class UnsubscribeView(TemplateView):
    """GET asks to confirm; POST records the choice. Mail programs that support RFC 8058 POST
    ``List-Unsubscribe=One-Click`` here directly; no CSRF token is needed because the signed
    token in the address, not a session, is what authorises the change."""

    template_name = "outreach/unsubscribe.html"

    def dispatch(self, request, *args, token, **kwargs):
        self.contact = services.unsubscribe_contact_from_token(token)
        if self.contact is None:
            return render(request, "outreach/unsubscribe_invalid.html", status=400)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contact"] = self.contact
        return context

    def post(self, request, *args, **kwargs):
        services.contact_unsubscribe(contact=self.contact)
        return render(request, "outreach/unsubscribe_done.html", {"contact": self.contact})
