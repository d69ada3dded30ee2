#!/bin/bash
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

# devstack plugin of nova-vfio-lm: every Nova service runs with the plugin
# active. devstack sources it as "plugin.sh MODE [PHASE]" (see settings).
#
# stack install      install the plugin where Nova is installed
# stack post-config  [vfio_lm] and [pci] options; the compute API's uwsgi
#                    file serves the plugin's WSGI entry (n-api is not
#                    started yet)
# stack extra        restart nova-compute, nova-conductor and
#                    nova-scheduler through nova-vfio-lm-run
#
# lib/nova starts those services with fixed commands and no hook, and the
# plugin phases are devstack's only supported entry points, so the plugin
# restarts them once devstack started them; no server exists yet then.

function install_nova_vfio_lm {
    setup_develop "$NOVA_VFIO_LM_DIR"
}

# The configuration files Nova's services read: nova.conf (API, scheduler,
# super conductor; nova-cpu.conf is copied from it as the compute starts)
# and each cell conductor's own file.
function nova_vfio_lm_conf_files {
    echo "$NOVA_CONF"
    local i conf
    for i in $(seq 1 "${NOVA_NUM_CELLS:-1}"); do
        conf=$(conductor_conf "$i")
        if [[ -f $conf && $conf != "$NOVA_CONF" ]]; then
            echo "$conf"
        fi
    done
}

function configure_nova_vfio_lm {
    local conf
    for conf in $(nova_vfio_lm_conf_files); do
        iniset "$conf" vfio_lm allow_unverified_nova "$NOVA_VFIO_LM_ALLOW_UNVERIFIED_NOVA"
        if [[ -n "$NOVA_VFIO_LM_PCI_ALIAS" ]]; then
            iniset "$conf" pci alias "$NOVA_VFIO_LM_PCI_ALIAS"
        fi
    done
    if [[ -n "$NOVA_VFIO_LM_PCI_DEVICE_SPEC" ]]; then
        iniset "$NOVA_CONF" pci device_spec "$NOVA_VFIO_LM_PCI_DEVICE_SPEC"
    fi
    if [[ "$NOVA_VFIO_LM_WRAP" == "True" ]] && is_service_enabled n-api; then
        configure_nova_vfio_lm_api
    fi
}

# devstack writes a module path (2025.1 and newer) or, on older branches,
# the path of Nova's WSGI script: serve the plugin's of the same kind.
function configure_nova_vfio_lm_api {
    if [[ -n "$(iniget "$NOVA_UWSGI_CONF" uwsgi module)" ]]; then
        iniset "$NOVA_UWSGI_CONF" uwsgi module "$NOVA_VFIO_LM_UWSGI"
    elif [[ -n "$(iniget "$NOVA_UWSGI_CONF" uwsgi wsgi-file)" ]]; then
        iniset "$NOVA_UWSGI_CONF" uwsgi wsgi-file \
            "$NOVA_VFIO_LM_BIN_DIR/nova-vfio-lm-api-wsgi"
    else
        die $LINENO "nova-vfio-lm: no module or wsgi-file in $NOVA_UWSGI_CONF"
    fi
}

# Each command is read back from the unit devstack wrote for it, so every
# variant lib/nova starts (cell conductors, fake computes, the libvirt
# group) keeps its own arguments and group.
function start_nova_vfio_lm_services {
    local unit service command group
    for unit in "$SYSTEMD_DIR"/devstack@n-*.service; do
        [[ -f $unit ]] || continue
        service=${unit##*/devstack@}
        service=${service%.service}
        command=$(iniget "$unit" Service ExecStart)
        case "$command" in
            "$NOVA_BIN_DIR/nova-compute "*) ;;
            "$NOVA_BIN_DIR/nova-conductor "*) ;;
            "$NOVA_BIN_DIR/nova-scheduler "*) ;;
            *) continue ;;
        esac
        group=$(iniget "$unit" Service Group)
        stop_process "$service"
        run_process "$service" "$NOVA_VFIO_LM_RUN ${command#"$NOVA_BIN_DIR"/}" "$group"
    done
}

if is_service_enabled nova; then
    if [[ "$1" == "stack" && "${2:-}" == "install" ]]; then
        echo_summary "Installing nova-vfio-lm"
        install_nova_vfio_lm
    elif [[ "$1" == "stack" && "${2:-}" == "post-config" ]]; then
        echo_summary "Configuring nova-vfio-lm"
        configure_nova_vfio_lm
    elif [[ "$1" == "stack" && "${2:-}" == "extra" ]]; then
        if [[ "$NOVA_VFIO_LM_WRAP" == "True" ]]; then
            echo_summary "Restarting Nova's services through nova-vfio-lm-run"
            start_nova_vfio_lm_services
        fi
    fi
    # unstack and clean: devstack stops and removes the same units and
    # rewrites the uwsgi file at the next stack; nothing is left to undo.
fi
