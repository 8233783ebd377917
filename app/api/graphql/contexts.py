"""The Query and Mutation types of each bounded context, merged into one schema."""

from __future__ import annotations

from app.api.graphql.identity import IdentityMutation, IdentityQuery
from app.api.graphql.organisation import OrganisationMutation, OrganisationQuery
from app.api.graphql.teams import TeamsMutation, TeamsQuery
from app.api.graphql.training import TrainingMutation, TrainingQuery
from app.api.graphql.volunteers import VolunteersMutation, VolunteersQuery

QUERIES: list[type] = []
MUTATIONS: list[type] = []
QUERIES.append(OrganisationQuery)
MUTATIONS.append(OrganisationMutation)
QUERIES.append(IdentityQuery)
MUTATIONS.append(IdentityMutation)
QUERIES += [VolunteersQuery, TeamsQuery, TrainingQuery]
MUTATIONS += [VolunteersMutation, TeamsMutation, TrainingMutation]
