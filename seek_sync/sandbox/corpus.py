"""Word lists the sandbox draws realistic, entirely fictional people, jobs and profiles from.

Names are international (non-ASCII, apostrophes, particles, a few mononyms); places are real suburbs
of Australia and New Zealand with approximate coordinates; every email domain is a reserved example
domain; employers are invented. Nothing here identifies a real person.
"""

from __future__ import annotations

from typing import NamedTuple

# fmt: off
GIVEN = [
    "Olivia", "Liam", "Zoë", "Søren", "José", "Aroha", "Mei", "Rahul", "Siobhan", "Tane",
    "Amélie", "Noah", "Priya", "Chloé", "Mateus", "Ngaio", "Hana", "Lachlan", "Fatima", "Ethan",
    "Grace", "Björn", "Isabella", "Kiri", "Oscar", "Leilani", "Daniel", "Aisha", "Ruby", "Seán",
    "Łukasz", "Renée", "Mārama", "Wiremu", "Yuki", "Min-jun", "Oluwaseun", "Ana", "Thảo", "Ahmad",
    "Jürgen", "Inés", "Sione", "Charlotte", "Arjun", "Freya", "Kai", "Niamh", "Tomás", "Esther",
]
FAMILY = [
    "O'Brien", "Nguyễn", "Smith", "Müller", "Ngata", "Chen", "Patel", "García", "Kowalski",
    "Williams", "Jensen", "Rossi", "Singh", "Dubois", "Taylor", "Wong", "Henare", "Fitzgerald",
    "Ivanova", "Brown", "Kim", "Okafor", "MacLeod", "Núñez", "D'Souza", "van der Berg", "Nakamura",
    "Papadopoulos", "Al-Hassan", "Lê", "Ó Súilleabháin", "Smith-Jones", "Wiśniewska", "Tupou",
    "Fa'amausili", "Kaur", "Walker", "Martin", "Zhang", "Ramírez",
]
EMAIL_DOMAINS = ["example.com", "example.org", "mail.example.net"]

# (hirer name, sector); hirers advertise jobs of their sector.
HIRERS = [
    ("Harbourside Grammar School", "teaching"), ("Kauri Health Network", "nursing"),
    ("Acme Engineering Pty Ltd", "engineering"), ("Southern Cross Retail Group", "retail"),
    ("Tasman Early Learning", "teaching"), ("Blue Gum Aged Care", "nursing"),
    ("Meridian Logistics", "logistics"), ("Coral Coast Council", "office"),
    ("Ōtautahi Community Trust", "office"), ("Wattle & Co. Cafés", "hospitality"),
]
WORK_TYPES = ["FullTime", "FullTime", "PartTime", "Casual", "ContractTemp"]
AD_TYPES = ["Classic", "Classic", "StandOut", "Premium"]


class Sector(NamedTuple):
    job_titles: list[str]  # job ads
    employers: list[str]  # past employers (invented)
    positions: list[str]  # titles held
    descriptions: list[str]  # what they did there
    degrees: list[str]
    certifications: list[tuple[str, str | None]]  # (name, issuing authority or None)
    skills: list[str]


SECTORS: dict[str, Sector] = {
    "teaching": Sector(
        ["Secondary Mathematics Teacher", "Primary Teacher (Years 3–4)", "Relief Teacher – Science",
         "Early Childhood Educator", "Learning Support Assistant"],
        ["Northside College", "Hillcrest Primary School", "Pohutukawa Kindergarten",
         "Gumtree Childcare Centre", "St Aidan's Catholic School"],
        ["Teacher", "Relief Teacher", "Head of Mathematics", "Teacher Aide", "Room Leader"],
        ["Planned and delivered lessons for Years 7–10; lifted numeracy results by 12%.",
         "Supported students with additional learning needs in small groups.",
         "Coordinated the Year 9 camp and parent–teacher interviews."],
        ["Bachelor of Education (Secondary)", "Master of Teaching",
         "Graduate Diploma in Teaching (Primary)",
         "Diploma of Early Childhood Education and Care"],
        [("Working with Children Check", "Service NSW"),
         ("Full Practising Certificate", "Teaching Council of Aotearoa New Zealand"),
         ("Provide First Aid (HLTAID011)", "St John Ambulance Australia")],
        ["Classroom management", "Curriculum design", "Behaviour management",
         "Differentiated instruction", "Te reo Māori"],
    ),
    "nursing": Sector(
        ["Registered Nurse – Emergency", "Clinical Nurse Specialist", "Aged Care Worker",
         "Enrolled Nurse – Rehabilitation"],
        ["St Brigid's Private Hospital", "Sunrise Health Care", "Lakeside Medical Centre",
         "Riverside Aged Care"],
        ["Registered Nurse", "Enrolled Nurse", "Care Worker", "Clinical Nurse",
         "Nurse Unit Manager"],
        ["Triage and patient assessment in a 30-bed emergency department.",
         "Administered medication and wound care for up to 12 residents a shift.",
         "Precepted new graduate nurses."],
        ["Bachelor of Nursing", "Master of Nursing Practice",
         "Certificate III in Individual Support"],
        [("Registered Nurse (Division 1)", "Nursing and Midwifery Board of Australia"),
         ("Police Check", "Australian Federal Police"),
         ("Provide First Aid (HLTAID011)", "St John Ambulance Australia")],
        ["Patient assessment", "Wound care", "Medication administration", "Manual handling"],
    ),
    "engineering": Sector(
        ["Civil Engineer", "Graduate Software Engineer", "Structural Drafter",
         "Site Safety Advisor", "Electrical Apprentice"],
        ["Kauri Construction Ltd", "Ironbark Mining Services", "Koru Software Ltd",
         "Coastline Rail"],
        ["Graduate Engineer", "Project Engineer", "Drafter", "Software Developer",
         "Apprentice Electrician"],
        ["Designed stormwater drainage for residential subdivisions (AutoCAD Civil 3D).",
         "Mentored two graduates and ran the site safety toolbox meeting.",
         "Moved the team's deployments to continuous delivery."],
        ["Bachelor of Engineering (Civil)", "Bachelor of Information Technology",
         "Certificate III in Electrotechnology", "Certificate IV in Work Health and Safety"],
        [("White Card (General Construction Induction)", "WorkSafe Victoria"),
         ("Driver Licence (Class 1)", "Waka Kotahi NZ Transport Agency")],
        ["AutoCAD", "Project scheduling", "Python", "Stakeholder engagement", "Report writing"],
    ),
    "retail": Sector(
        ["Store Manager", "Retail Assistant (Casual)", "Customer Service Representative"],
        ["Greenway Supermarkets", "Big Red Hardware", "Budget Mart Australia",
         "Harbour Books & Gifts"],
        ["Sales Assistant", "Team Leader", "Store Manager", "Customer Service Officer"],
        ["Managed stock control and weekly rosters for a store of 25 staff.",
         "Handled 60+ customer enquiries a day by phone, email and chat."],
        ["Certificate III in Retail", "Bachelor of Commerce"],
        [("Responsible Service of Alcohol", "Liquor & Gaming NSW")],
        ["Customer service", "Cash handling", "Inventory control", "Rostering"],
    ),
    "hospitality": Sector(
        ["Barista / All-rounder", "Head Chef", "Café Supervisor"],
        ["Old Quarter Bistro", "Harbour Lights Hotel", "The Little Fig Café"],
        ["Barista", "Kitchen Hand", "Chef de Partie", "Shift Supervisor"],
        ["Prepared food to HACCP standards for up to 200 covers.",
         "Trained new baristas and ran the morning rush."],
        ["New Zealand Certificate in Cookery (Level 4)", "Certificate III in Hospitality"],
        [("Food Safety Supervisor", None),
         ("Responsible Service of Alcohol", "Liquor & Gaming NSW")],
        ["Barista skills", "Food safety", "Customer service", "Stock ordering"],
    ),
    "logistics": Sector(
        ["Warehouse Supervisor", "Forklift Operator", "Transport Planner"],
        ["Tui Freight Ltd", "Southern Dairy Co-operative", "Coastline Rail"],
        ["Warehouse Operator", "Shift Supervisor", "Forklift Driver", "Dispatch Coordinator"],
        ["Led a team of four across day and night shifts.",
         "Cut picking errors by a third with a new bin-labelling scheme."],
        ["Certificate IV in Warehousing Operations", "Diploma of Logistics"],
        [("Licence to Perform High Risk Work – Forklift (LF)", "SafeWork NSW"),
         ("Driver Licence (Class 1)", "Waka Kotahi NZ Transport Agency")],
        ["Manual handling", "Inventory control", "SAP", "Team leadership"],
    ),
    "office": Sector(
        ["Payroll Officer", "Receptionist & Administration Officer", "Policy Analyst"],
        ["City of Port Ellis", "Riverbend District Council", "Bluewater Telecommunications",
         "Eastern Suburbs Physio"],
        ["Administration Officer", "Payroll Officer", "Analyst", "Receptionist"],
        ["Introduced a new filing system that halved document retrieval time.",
         "Processed fortnightly payroll for 350 staff."],
        ["Bachelor of Commerce", "Diploma of Business", "Bachelor of Arts"],
        [("Police Check", "Australian Federal Police")],
        ["Microsoft Excel", "Xero", "Report writing", "Conflict resolution"],
    ),
}
INSTITUTIONS = [
    "University of Sydney", "University of Auckland", "Monash University", "RMIT University",
    "Victoria University of Wellington", "TAFE NSW", "Queensland University of Technology",
    "Massey University", "University of Otago", "Curtin University", "Te Pūkenga",
    "University of Tasmania", "Deakin University", "Auckland University of Technology",
]
EDUCATION_DESCRIPTIONS = [
    "Graduated with distinction.", "Dean's list 2019 and 2020.",
    "Completed part time while working.",
    "Major in mathematics, minor in statistics.", "Final placement at a rural hospital.",
    "Student representative on the faculty board.",
]
# SEEK's EducationDegree.degreeGrantedStatus codes.
DEGREE_STATUSES = ["Granted", "Granted", "Granted", "InProgress"]
CERTIFICATION_DESCRIPTIONS = ["Renewed annually.", "Card number available on request."]
COMPETENCIES = [  # anyone's extra skills
    "Stakeholder engagement", "Microsoft Excel", "Team leadership", "Conflict resolution",
    "Customer service", "Te reo Māori", "First aid", "Report writing", "Time management",
]
# (suburb or city, state or region, postcode, country, latitude, longitude)
PLACES = [
    ("Parramatta", "NSW", "2150", "AU", -33.815, 151.001),
    ("Bondi Junction", "NSW", "2022", "AU", -33.892, 151.247),
    ("Fitzroy", "VIC", "3065", "AU", -37.799, 144.978),
    ("Geelong", "VIC", "3220", "AU", -38.147, 144.361),
    ("Fortitude Valley", "QLD", "4006", "AU", -27.457, 153.034),
    ("Townsville", "QLD", "4810", "AU", -19.259, 146.817),
    ("Fremantle", "WA", "6160", "AU", -32.056, 115.747),
    ("Glenelg", "SA", "5045", "AU", -34.981, 138.515),
    ("Hobart", "TAS", "7000", "AU", -42.882, 147.327),
    ("Braddon", "ACT", "2612", "AU", -35.271, 149.135),
    ("Darwin City", "NT", "0800", "AU", -12.463, 130.842),
    ("Ponsonby", "Auckland", "1011", "NZ", -36.852, 174.745),
    ("Te Aro", "Wellington", "6011", "NZ", -41.295, 174.776),
    ("Riccarton", "Canterbury", "8011", "NZ", -43.530, 172.597),
    ("Hamilton East", "Waikato", "3216", "NZ", -37.792, 175.298),
    ("Dunedin Central", "Otago", "9016", "NZ", -45.874, 170.503),
]
STREETS = [
    "George Street", "Queen Street", "Lambton Quay", "Chapel Street", "Oxford Street",
    "Brunswick Street", "Karangahape Road", "Riccarton Road", "Hay Street", "Murray Street",
]
EXTENDED_LINES = ["Unit 4", "Apartment 12B", "Level 2", "Flat 3"]

FREE_TEXT_QUESTIONS = [
    "Why are you interested in this role?",
    "Describe a time you resolved a conflict at work.",
    "What is your notice period?",
    "Tell us about a recent achievement you are proud of.",
]
FREE_TEXT_ANSWERS = [
    "I enjoy working with people and solving problems.",
    "Four weeks.",
    "In my last role I rebuilt the roster so weekend shifts were shared fairly.\n\n"
    "Absences dropped and the team was happier.",
    "I'd love to grow with an organisation that values community — and I live nearby!",
    "Two weeks' notice; available for interview any weekday after 3pm.",
]
# (question, choices, indexes of the preferred choices)
SINGLE_SELECT_QUESTIONS = [
    ("Do you have the right to work in Australia?", ["Yes", "No"], [0]),
    ("Do you have the right to work in New Zealand?", ["Yes", "No"], [0]),
    (
        "How many years of relevant experience do you have?",
        ["Less than 1", "1–3", "3–5", "More than 5"],
        [2, 3],
    ),
    ("Do you hold a current Working with Children Check?", ["Yes", "No", "Applied for"], [0]),
    ("Do you have a current driver's licence?", ["Yes", "No"], [0]),
]
MULTI_SELECT_QUESTIONS = [
    ("Which shifts can you work?", ["Mornings", "Afternoons", "Nights", "Weekends"], [2, 3]),
    ("Which licences do you hold?", ["Car", "Forklift", "Heavy rigid", "None"], [0, 1]),
    ("Which year levels have you taught?", ["Years 7–8", "Years 9–10", "Years 11–12"], [1, 2]),
    ("Which systems have you used?", ["Xero", "MYOB", "SAP", "Excel"], [0, 3]),
]
PRIVACY_POLICY_URLS = ["https://www.example.com/privacy", "https://careers.example.org/privacy"]
CONSENT_HTML = [None, "<p>Do you agree to the privacy policy?</p>"]

COVER_LETTER_LINES = [
    "Dear Hiring Manager,",
    "I am writing to apply for the advertised position.",
    "My experience and qualifications are summarised in the attached resume.",
    "Thank you for considering my application. Kind regards,",
]
SELECTION_CRITERIA_LINES = [
    "Selection criterion 1: Demonstrated experience in a similar role.",
    "Selection criterion 2: Excellent written and verbal communication skills.",
    "Selection criterion 3: Ability to work as part of a team.",
]
OTHER_DOCUMENTS = [
    ("Academic transcript", ["pdf"]),
    ("First aid certificate", ["png", "jpeg", "pdf"]),
    ("Reference letter", ["pdf", "docx"]),
    ("Licence scan", ["jpeg", "png"]),
    ("Portfolio sample", ["pdf"]),
    ("Working with Children Check", ["jpeg", "pdf"]),
]
# fmt: on


def branch_hirer(index: int) -> tuple[str, str]:
    """Hirer number `index` (from `len(HIRERS)` on) of a big world: a named branch of a hirer.

    Unique for every index: "Kauri Health Network – Fitzroy", then "… – Fitzroy 2" and so on.
    """
    name, sector = HIRERS[index % len(HIRERS)]
    rounds, place = divmod(index // len(HIRERS) - 1, len(PLACES))
    return f"{name} – {PLACES[place][0]}{f' {rounds + 1}' if rounds else ''}", sector
