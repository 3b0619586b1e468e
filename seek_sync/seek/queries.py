"""The GraphQL documents seek-sync sends to SEEK, written as SEEK's documentation writes them."""

from __future__ import annotations

# Polling `events`: a CandidateApplicationCreated node carries no hirer id of its own, so we select
# the position's organizations; the first one is the hirer (DESIGN.md, "The hirer of an event").
EVENTS = """
query ($schemeId: String!, $first: Int, $after: String, $filter: EventsFilterInput) {
  events(schemeId: $schemeId, first: $first, after: $after, filter: $filter) {
    edges {
      cursor
      streamDateTime
      node {
        id { value }
        typeCode
        createDateTime
        ... on CandidateApplicationCreatedEvent {
          candidateApplicationProfileId
          candidateId
          candidateApplicationProfile {
            associatedPositionProfile {
              seekHirerJobReference
              positionOrganizations { id { value } name }
            }
          }
        }
        ... on HirerRelationshipChangedEvent {
          hirerId
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# Seed 001's candidateProfile query, plus what the pipeline needs: attachments, questionnaire.
CANDIDATE_PROFILE = """
query ($id: String!) {
  candidateProfile(id: $id) {
    profileId { value }
    createDateTime
    updateDateTime
    candidate {
      documentId { value }
      person {
        name { formattedName given family }
        communication {
          phone { formattedNumber }
          email { address }
        }
      }
    }
    associatedPositionProfile {
      seekHirerJobReference
      positionOrganizations { id { value } name }
      positionUri
      positionTitle
    }
    employment {
      organization { name }
      positionHistories { start end title current descriptions }
    }
    education {
      institution { name }
      educationDegrees { name degreeGrantedStatus date }
      descriptions
    }
    certifications {
      name
      issued
      effectiveTimePeriod { validTo }
      issuingAuthority { name }
      descriptions
    }
    qualifications { competencyName }
    attachments {
      id { value }
      url
      descriptions
      seekRoleCode
    }
    seekQuestionnaireSubmission {
      questionnaire {
        id { value }
        components {
          id { value }
          componentTypeCode
          ... on ApplicationQuestion {
            questionHtml
            responseTypeCode
          }
          ... on ApplicationPrivacyConsent {
            descriptionHtml
          }
        }
      }
      responses {
        componentTypeCode
        component { id { value } }
        ... on ApplicationQuestionResponse {
          answers { answer }
          score
        }
        ... on ApplicationPrivacyConsentResponse {
          consentGivenIndicator
        }
      }
      score
    }
  }
}
"""

HIRING_ORGANIZATIONS = """
query ($schemeId: String!, $first: Int, $after: String, $filter: HiringOrganizationsFilterInput) {
  hiringOrganizations(schemeId: $schemeId, first: $first, after: $after, filter: $filter) {
    edges {
      node {
        id { value }
        name
        seekApiCapabilities { relationshipTypeCodes }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
