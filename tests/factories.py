"""factory-boy factories for every model; tests build what they need with these."""

import datetime

import factory
from django.utils import timezone

from cities.models import BoardSeat, City, CityNetwork, Contact, Country, Mayor, MayoralTerm, Tag
from crm.models import User
from engagements.models import (
    Engagement,
    Event,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    Process,
    TARequest,
)
from pledges.models import Framework, Pledge, PledgeUpdate

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(TEST_PASSWORD)


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("code",)

    code = "BR"
    name = "Brazil"
    region = Country.Region.LATIN_AMERICA


class CityNetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CityNetwork
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Network {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City

    name = factory.Sequence(lambda n: f"City {n}")
    country = factory.SubFactory(CountryFactory)
    status = City.Status.PARTNER


class MayorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mayor

    full_name = factory.Faker("name")


class MayoralTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MayoralTerm

    mayor = factory.SubFactory(MayorFactory)
    city = factory.SubFactory(CityFactory)
    start_date = datetime.date(2021, 1, 1)
    end_date = None


class BoardSeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BoardSeat

    mayor = factory.SubFactory(MayorFactory)
    role = BoardSeat.Role.MEMBER
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=200))
    end_date = factory.LazyAttribute(lambda s: s.start_date.replace(year=s.start_date.year + 2))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@city.example.org")
    city = factory.SubFactory(CityFactory)
    consent_to_outreach = True


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement
        skip_postgeneration_save = True

    date = factory.LazyFunction(timezone.localdate)
    kind = Engagement.Kind.MEETING
    owner = factory.SubFactory(UserFactory)
    summary = factory.Sequence(lambda n: f"Engagement {n}")

    @factory.post_generation
    def cities(self, create, extracted, **kwargs):
        if create:
            self.cities.set(extracted if extracted is not None else [CityFactory()])

    @factory.post_generation
    def contacts(self, create, extracted, **kwargs):
        if create and extracted:
            self.contacts.set(extracted)


class TARequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TARequest

    city = factory.SubFactory(CityFactory)
    topic = factory.Sequence(lambda n: f"TA topic {n}")
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    name = factory.Sequence(lambda n: f"Event {n}")
    process = Process.GFMD
    start_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))
    place = "Geneva"


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participation

    event = factory.SubFactory(EventFactory)
    city = factory.SubFactory(CityFactory)
    role = Participation.Role.DELEGATE


class PolicyContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyContribution
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Joint statement {n}")
    date = factory.LazyFunction(timezone.localdate)
    process = Process.IMRF

    @factory.post_generation
    def cities(self, create, extracted, **kwargs):
        if create and extracted:
            self.cities.set(extracted)


class PolicyOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyOutcome

    title = factory.Sequence(lambda n: f"Policy position {n}")
    date = factory.LazyFunction(timezone.localdate)


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework
        django_get_or_create = ("kind", "title")

    kind = Framework.Kind.CAMPAIGN
    title = factory.Sequence(lambda n: f"Campaign {n}")


class PledgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pledge
        skip_postgeneration_save = True

    city = factory.SubFactory(CityFactory)
    title = factory.Sequence(lambda n: f"Pledge {n}")
    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def frameworks(self, create, extracted, **kwargs):
        if create and extracted:
            self.frameworks.set(extracted)


class PledgeUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PledgeUpdate

    pledge = factory.SubFactory(PledgeFactory)
    note = "Progress reported by the city."
    percent = 50
