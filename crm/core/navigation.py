"""The main menu: (label, url name, permission or None) per entry, grouped under headings.

An app adds its pages here when they exist; a test checks every entry resolves.
"""

MENU = [
    ("Home", [("Home", "home", None)]),
    ("Dashboard", [("Dashboard", "crm:dashboard", "crm.view_dashboard")]),
    (
        "Cities",
        [
            ("Cities", "cities:city_list", "cities.view_city"),
            ("Contacts", "cities:contact_list", "cities.view_contact"),
            ("Mayors", "cities:mayor_list", "cities.view_mayor"),
            ("Leadership Board", "cities:board", "cities.view_boardseat"),
        ],
    ),
    (
        "Engagements",
        [
            ("Log", "engagements:engagement_list", "engagements.view_engagement"),
            ("My work", "engagements:my_work", None),
            ("Email inbox", "engagements:inbox", "engagements.view_inboundemail"),
            ("TA requests", "engagements:ta_list", "engagements.view_tarequest"),
            ("Events", "engagements:event_list", "engagements.view_event"),
            (
                "Policy contributions",
                "engagements:contribution_list",
                "engagements.view_policycontribution",
            ),
            ("Policy outcomes", "engagements:outcome_list", "engagements.view_policyoutcome"),
        ],
    ),
    (
        "Pledges",
        [
            ("Pledges", "pledges:pledge_list", "pledges.view_pledge"),
            ("By framework", "pledges:framework_summary", "pledges.view_pledge"),
        ],
    ),
    (
        "Outreach",
        [
            ("Notifications", "outreach:notifications", None),
            ("Campaigns", "outreach:campaign_list", "outreach.add_campaign"),
            ("Failed deliveries", "outreach:failed_deliveries", "outreach.change_reminder"),
            ("Preferences", "outreach:preferences", None),
        ],
    ),
    (
        "Data",
        [
            ("Import and export", "crm:import_start", "crm.import_records"),
            ("Import log", "crm:import_batches", "crm.import_records"),
        ],
    ),
]
