"""Word lists the sandbox draws realistic (and entirely fictional) people and jobs from."""

from __future__ import annotations

# fmt: off
GIVEN = [
    "Olivia", "Liam", "Zoë", "Søren", "José", "Aroha", "Mei", "Rahul", "Siobhan", "Tane",
    "Amélie", "Noah", "Priya", "Chloé", "Mateus", "Ngaio", "Hana", "Lachlan", "Fatima", "Ethan",
    "Grace", "Nguyễn Thị", "Björn", "Isabella", "Kiri", "Oscar", "Leilani", "Daniel", "Aisha",
    "Ruby",
]
FAMILY = [
    "O'Brien", "Nguyễn", "Smith", "Müller", "Ngata", "Chen", "Patel", "García", "Kowalski",
    "Williams", "Tūhoe", "Jensen", "Rossi", "Singh", "Dubois", "Taylor", "Wong", "Henare",
    "Fitzgerald", "Ivanova", "Brown", "Kim", "Okafor", "MacLeod", "Núñez",
]
EMAIL_DOMAINS = ["example.com", "example.org", "mail.example.net"]

HIRER_NAMES = [
    "Harbourside Grammar School", "Kauri Health Network", "Acme Engineering Pty Ltd",
    "Southern Cross Retail Group", "Tasman Early Learning", "Blue Gum Aged Care",
    "Meridian Logistics", "Coral Coast Council",
]
JOB_TITLES = [
    "Secondary Mathematics Teacher", "Registered Nurse – Emergency", "Civil Engineer",
    "Store Manager", "Early Childhood Educator", "Aged Care Worker", "Warehouse Supervisor",
    "Payroll Officer", "Primary Teacher (Years 3–4)", "Graduate Software Engineer",
    "Customer Service Representative", "Site Safety Advisor",
]
EMPLOYERS = [
    "Northside College", "St Vincent's Hospital", "Woolworths Group", "Fletcher Building",
    "City of Melbourne", "Auckland Council", "Bunnings Warehouse", "Ramsay Health Care",
    "Department of Education", "Fonterra", "Telstra", "Queensland Rail", "Kmart Australia",
]
POSITION_TITLES = [
    "Teacher", "Relief Teacher", "Registered Nurse", "Enrolled Nurse", "Graduate Engineer",
    "Project Engineer", "Team Leader", "Sales Assistant", "Administration Officer",
    "Care Worker", "Shift Supervisor", "Analyst",
]
INSTITUTIONS = [
    "University of Sydney", "University of Auckland", "Monash University", "RMIT University",
    "Victoria University of Wellington", "TAFE NSW", "Queensland University of Technology",
    "Massey University",
]
DEGREES = [
    "Bachelor of Education (Secondary)", "Bachelor of Nursing", "Bachelor of Engineering (Civil)",
    "Master of Teaching", "Diploma of Early Childhood Education and Care",
    "Certificate III in Individual Support", "Bachelor of Commerce", "Bachelor of Science",
]
DEGREE_STATUSES = ["FullyQualified", "Active"]
CERTIFICATIONS = [
    ("Working with Children Check", "Service NSW"),
    ("First Aid Certificate (HLTAID011)", "St John Ambulance"),
    ("Registered Nurse Registration", "AHPRA"),
    ("Forklift Licence (LF)", "SafeWork NSW"),
    ("Teacher Registration", "Teaching Council of Aotearoa New Zealand"),
    ("Responsible Service of Alcohol", "Liquor & Gaming NSW"),
]
COMPETENCIES = [
    "Classroom management", "Curriculum design", "Patient assessment", "AutoCAD",
    "Stakeholder engagement", "Microsoft Excel", "Team leadership", "Conflict resolution",
    "Manual handling", "Customer service", "Te reo Māori", "Python",
]
PLACES = [
    ("Parramatta", "NSW", "2150", "AU"), ("Fitzroy", "VIC", "3065", "AU"),
    ("Fortitude Valley", "QLD", "4006", "AU"), ("Ponsonby", "Auckland", "1011", "NZ"),
    ("Te Aro", "Wellington", "6011", "NZ"), ("Fremantle", "WA", "6160", "AU"),
]
STREETS = ["George Street", "Queen Street", "Lambton Quay", "Chapel Street", "Oxford Street"]

FREE_TEXT_QUESTIONS = [
    "Why are you interested in this role?",
    "Describe a time you resolved a conflict at work.",
]
SINGLE_SELECT_QUESTIONS = [
    ("Do you have the right to work in Australia?", ["Yes", "No"]),
    ("How many years of relevant experience do you have?", ["Less than 1", "1–3", "3–5", "5+"]),
]
MULTI_SELECT_QUESTIONS = [
    ("Which shifts can you work?", ["Mornings", "Afternoons", "Nights", "Weekends"]),
    ("Which licences do you hold?", ["Car", "Forklift", "Heavy rigid", "None"]),
]
# fmt: on
