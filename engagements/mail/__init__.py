"""Reading emails for the engagement log: parsing (``parsing``), Outlook files (``outlook``) and
the IMAP mailbox (``imap``). Nothing here touches the database; ``engagements.services`` does."""
