"""The dashboard as an XLSX workbook, one sheet per block."""

import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    # A text cell starting like a formula is shown as text, never evaluated by the spreadsheet.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def dashboard_workbook(data):
    """The dashboard's blocks as an XLSX workbook (bytes), one sheet per block."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)

    def sheet(title, header, rows):
        ws = workbook.create_sheet(title)
        ws.append(["MMC dashboard", f"{data.period.start} to {data.period.end}"])
        ws.append(["Compared with", f"{data.previous.start} to {data.previous.end}"])
        ws.append(["Cities", str(data.scope)])
        ws.append([])
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.font = bold
        for row in rows:
            ws.append([_cell(value) for value in row])
        ws.column_dimensions["A"].width = 34
        return ws

    for block in data.blocks:
        sheet(
            block.title,
            ["Figure", "This period", "Previous period", "Change", "Note"],
            [[f.label, f.value, f.previous, f.change, f.help] for f in block.figures],
        )
    by_month = data.by_month
    sheet(
        "Engagements by month",
        ["Month", *[s["label"] for s in by_month["series"]], "Total"],
        [
            [month, *[s["counts"][i] for s in by_month["series"]], by_month["totals"][i]]
            for i, month in enumerate(by_month["months"])
        ],
    )
    sheet(
        "Engagements by region",
        ["Region", "Engagements"],
        [[row["label"], row["count"]] for row in data.by_region],
    )
    framework = data.by_framework
    sheet(
        "Pledges by framework",
        ["Framework", *[label for _, label in framework["statuses"]], "Total"],
        [
            [row["label"], *[c["count"] for c in row["cells"]], row["total"]]
            for row in framework["rows"]
        ],
    )
    sheet(
        "TA pipeline",
        ["Status", "Requests received in the period"],
        [[row["label"], row["count"]] for row in data.pipeline],
    )
    sheet(
        "Partner cities",
        ["Ranking", "City", "Country", "Engagements"],
        [
            ["Most engaged", c["name"], c["country__name"], c["n"]]
            for c in data.engaged_cities["most"]
        ]
        + [
            ["Least engaged", c["name"], c["country__name"], c["n"]]
            for c in data.engaged_cities["least"]
        ],
    )
    sheet(
        "Overdue by owner",
        ["Owner", "Overdue follow-ups", "Overdue TA requests"],
        [[row["name"], row["followups"], row["ta"]] for row in data.overdue],
    )
    sheet(
        "Board seats ending",
        ["Mayor", "City", "Role", "Ends on"],
        [
            [
                str(seat.mayor),
                ", ".join(str(t.city) for t in seat.mayor.current_terms),
                seat.get_role_display(),
                seat.end_date,
            ]
            for seat in data.board_seats
        ],
    )
    sheet(
        "Upcoming events",
        ["Event", "Process", "Starts", "Place", "Delegation"],
        [
            [
                event.name,
                event.get_process_display(),
                event.start_date,
                event.place,
                "; ".join(f"{p.city} ({p.get_role_display()})" for p in event.delegation),
            ]
            for event in data.events
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
