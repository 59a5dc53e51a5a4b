// What deploy/engine-proxy/nginx.conf lets through beyond methods and paths (nginx's njs): a
// container is created only as Berth creates a session's (docs/operations.md, "Narrow the engine
// socket"), a network only as Berth makes its sessions', and only containers and networks labelled
// berth.managed=true are started, stopped, renamed or deleted. Everything passes on to the engine
// through the internal location /_engine; a refusal is 403 with the engine's own error shape,
// {"message": "..."}, saying what was asked and why it is not allowed.

const MANAGED = 'berth.managed';

function refuse(r, why) {
    r.error('berth engine proxy: refused ' + r.method + ' ' + r.uri + ': ' + why);
    r.headersOut['Content-Type'] = 'application/json';
    r.return(403, JSON.stringify({message: 'berth engine proxy: ' + why}) + '\n');
}

/** Passes the request on to the engine as it came, and its answer back. */
async function pass(r) {
    const answer = await engine(r, r.method, r.uri, r.requestText);
    if (answer.headersOut['Content-Type']) {
        r.headersOut['Content-Type'] = answer.headersOut['Content-Type'];
    }
    r.return(answer.status, answer.responseText);
}

function engine(r, method, uri, body) {
    const options = {method: method, args: method === r.method ? r.variables.args : undefined};
    if (body) {
        options.body = body;
    }
    return r.subrequest('/_engine' + uri, options);
}

function present(value) {
    if (value === undefined || value === null || value === false || value === '') {
        return false;
    }
    if (Array.isArray(value)) {
        return value.length > 0;
    }
    return typeof value !== 'object' || Object.keys(value).length > 0;
}

/** Why a container's spec is not one Berth makes for a session; empty when it is. */
function containerProblems(spec) {
    const problems = [];
    const labels = spec.Labels || {};
    const host = spec.HostConfig || {};
    if (labels[MANAGED] !== 'true') {
        problems.push('it is not labelled ' + MANAGED + '=true');
    }
    const user = String(spec.User || '');
    if (user === '' || /^(0|root)(:|$)/.test(user)) {
        problems.push('it would run as root (User "' + user + '")');
    }
    if (host.Privileged) {
        problems.push('it is privileged');
    }
    ['Binds', 'Mounts', 'Devices', 'DeviceRequests', 'DeviceCgroupRules', 'CapAdd', 'VolumesFrom', 'Links',
        'Sysctls', 'CgroupParent', 'PortBindings', 'PublishAllPorts', 'ExtraHosts', 'Runtime']
        .filter(key => present(host[key]))
        .forEach(key => problems.push('HostConfig.' + key + ' is set'));
    if ((host.CapDrop || []).indexOf('ALL') < 0) {
        problems.push('it keeps capabilities (HostConfig.CapDrop is not ["ALL"])');
    }
    if (!(host.SecurityOpt || []).some(opt => /^no-new-privileges(:true)?$/.test(opt))) {
        problems.push('it may gain privileges (HostConfig.SecurityOpt lacks no-new-privileges)');
    }
    ['PidMode', 'IpcMode', 'UsernsMode', 'UTSMode', 'CgroupnsMode']
        .filter(key => host[key] === 'host' || /^container:/.test(host[key] || ''))
        .forEach(key => problems.push('HostConfig.' + key + ' is ' + host[key]));
    Object.keys(host.Tmpfs || {})
        .filter(path => path !== '/tmp')
        .forEach(path => problems.push('a tmpfs on ' + path));
    ['Memory', 'NanoCpus', 'PidsLimit']
        .filter(key => !(host[key] > 0))
        .forEach(key => problems.push('no HostConfig.' + key + ' limit'));
    const network = host.NetworkMode || '';
    if (network === '' || /^(host|bridge|default|none|container:.*)$/.test(network)) {
        problems.push('it is not on a network of Berth\'s (HostConfig.NetworkMode "' + network + '")');
    }
    const endpoints = Object.keys((spec.NetworkingConfig || {}).EndpointsConfig || {});
    if (endpoints.some(name => name !== network)) {
        problems.push('it joins other networks (' + endpoints.join(', ') + ')');
    }
    return problems;
}

/** Whether an engine object (a container's or a network's inspect) is labelled as Berth's. */
function managed(inspected) {
    const labels = (inspected.Config ? inspected.Config.Labels : inspected.Labels) || {};
    return labels[MANAGED] === 'true';
}

async function containerCreate(r) {
    let spec;
    try {
        spec = JSON.parse(r.requestText || '');
    } catch (e) {
        return refuse(r, 'the create request is not JSON');
    }
    const problems = containerProblems(spec);
    if (problems.length === 0) {
        const network = await engine(r, 'GET', '/networks/' + encodeURIComponent(spec.HostConfig.NetworkMode));
        const isolated = network.status === 200 && managed(JSON.parse(network.responseText))
            && (JSON.parse(network.responseText).Options || {})['com.docker.network.bridge.enable_icc'] === 'false';
        if (!isolated) {
            problems.push('network ' + spec.HostConfig.NetworkMode + ' is not one of Berth\'s'
                + ' (labelled ' + MANAGED + '=true, inter-container traffic off)');
        }
    }
    if (problems.length > 0) {
        return refuse(r, 'a container only as Berth makes a session\'s: ' + problems.join('; '));
    }
    return pass(r);
}

async function networkCreate(r) {
    let spec;
    try {
        spec = JSON.parse(r.requestText || '');
    } catch (e) {
        return refuse(r, 'the create request is not JSON');
    }
    const options = spec.Options || {};
    if (spec.Driver !== 'bridge' || options['com.docker.network.bridge.enable_icc'] !== 'false'
        || (spec.Labels || {})[MANAGED] !== 'true') {
        return refuse(r, 'a network only as Berth makes its sessions\': a bridge, labelled ' + MANAGED
            + '=true, with com.docker.network.bridge.enable_icc "false"');
    }
    return pass(r);
}

/**
 * Start, stop, rename or delete of a container, or delete of a network: only of Berth's. An object
 * the engine does not know is answered as the engine answers (404), which a launcher takes as gone.
 */
async function ownedOnly(r) {
    const kind = /\/networks\//.test(r.uri) ? 'networks' : 'containers';
    const id = r.uri.replace(new RegExp('^(/v[0-9.]+)?/' + kind + '/'), '').split('/')[0];
    const found = await engine(r, 'GET', '/' + kind + '/' + encodeURIComponent(id) + (kind === 'containers' ? '/json' : ''));
    if (found.status !== 200) {
        r.headersOut['Content-Type'] = 'application/json';
        return r.return(found.status, found.responseText);
    }
    if (!managed(JSON.parse(found.responseText))) {
        return refuse(r, 'only ' + kind + ' labelled ' + MANAGED + '=true: ' + id + ' is not');
    }
    return pass(r);
}

/** GET passes; DELETE only of Berth's networks. */
async function network(r) {
    return r.method === 'GET' ? pass(r) : ownedOnly(r);
}

export default {containerCreate, networkCreate, ownedOnly, network};
