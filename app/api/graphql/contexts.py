"""The Query, Mutation and Subscription types of each bounded context, merged into one
schema."""

from __future__ import annotations

from app.api.graphql.appeals import AppealsMutation, AppealsQuery
from app.api.graphql.emergency import EmergencyMutation, EmergencyQuery
from app.api.graphql.emergency_nearby import EmergencyNearbyQuery
from app.api.graphql.emergency_subscriptions import EmergencySubscription
from app.api.graphql.hazards import HazardsMutation, HazardsQuery
from app.api.graphql.help_requests import HelpMutation, HelpQuery
from app.api.graphql.identity import IdentityMutation, IdentityQuery
from app.api.graphql.incidents import IncidentMutation, IncidentQuery
from app.api.graphql.media import MediaMutation
from app.api.graphql.notifications import NotificationsMutation, NotificationsQuery
from app.api.graphql.organisation import OrganisationMutation, OrganisationQuery
from app.api.graphql.points import PointsMutation, PointsQuery
from app.api.graphql.review import ReviewMutation, ReviewQuery
from app.api.graphql.rewards import RewardsMutation, RewardsQuery
from app.api.graphql.subscriptions import TipsSubscription
from app.api.graphql.sync import SyncQuery
from app.api.graphql.teams import TeamsMutation, TeamsQuery
from app.api.graphql.tips import TipsMutation, TipsQuery
from app.api.graphql.tips_console import TipsConsoleMutation, TipsConsoleQuery
from app.api.graphql.training import TrainingMutation, TrainingQuery
from app.api.graphql.volunteers import VolunteersMutation, VolunteersQuery

QUERIES: list[type] = []
MUTATIONS: list[type] = []
SUBSCRIPTIONS: list[type] = []
QUERIES.append(OrganisationQuery)
MUTATIONS.append(OrganisationMutation)
QUERIES.append(IdentityQuery)
MUTATIONS.append(IdentityMutation)
QUERIES += [VolunteersQuery, TeamsQuery, TrainingQuery]
MUTATIONS += [VolunteersMutation, TeamsMutation, TrainingMutation]
MUTATIONS.append(MediaMutation)
QUERIES.append(NotificationsQuery)
MUTATIONS.append(NotificationsMutation)
QUERIES.append(TipsQuery)
MUTATIONS.append(TipsMutation)
QUERIES.append(TipsConsoleQuery)
MUTATIONS.append(TipsConsoleMutation)
QUERIES.append(SyncQuery)
SUBSCRIPTIONS.append(TipsSubscription)
SUBSCRIPTIONS.append(EmergencySubscription)
QUERIES.append(AppealsQuery)
MUTATIONS.append(AppealsMutation)
QUERIES.append(HelpQuery)
MUTATIONS.append(HelpMutation)
QUERIES.append(HazardsQuery)
MUTATIONS.append(HazardsMutation)
QUERIES.append(EmergencyQuery)
QUERIES.append(EmergencyNearbyQuery)
QUERIES.append(IncidentQuery)
MUTATIONS.append(EmergencyMutation)
MUTATIONS.append(IncidentMutation)
QUERIES += [PointsQuery, RewardsQuery]
MUTATIONS += [PointsMutation, RewardsMutation]
QUERIES.append(ReviewQuery)
MUTATIONS.append(ReviewMutation)
