# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Tables the commands print for people (``--format table``).

One style for every command: columns without borders, left-aligned, so a
row reads as one line and ``grep`` finds it. prettytable (installed with
Nova) lays them out; set attribute by attribute, which every prettytable
3.x release takes.
"""

import prettytable


def table(header, rows):
    """``rows`` under ``header``, as text; a cell may hold several lines.

    With no row, the header and ``(none)``: an empty answer still shows
    what was asked.
    """
    rows = [list(row) for row in rows]
    out = prettytable.PrettyTable(list(header))
    out.border = False
    out.align = 'l'
    out.left_padding_width = 0
    out.right_padding_width = 2
    for row in rows:
        out.add_row(row)
    if not rows:
        return '  '.join(header) + '\n(none)'
    return '\n'.join(line.rstrip() for line in out.get_string().splitlines())
