"""``python -m course_lib facs``: print the expression -> AU table (LGP-GAN Table I + RaFD's extra classes)."""


def register(sub):
    p = sub.add_parser("facs", help="print the expression -> Action Unit table (LGP-GAN Table I)",
                       description="Print the 8 expression classes (canonical label order) and their AUs.")
    p.add_argument("--aus", action="store_true", help="also print the AU table (name, region, muscles)")
    p.set_defaults(func=run)


def run(args) -> int:
    from course_lib import facs

    print(facs.format_expression_table())
    if args.aus:
        print()
        print(facs.format_au_table())
    return 0
